"""Schedules: jobs created by time (cron, recurrence) or by events (event triggers).

timezones  IANA names and the Windows names Azure's examples use ("Pacific Standard Time")
timing     when a cron or recurrence trigger fires next; the first firing; the end
specs      a schedule YAML checked whole at create time: trigger, time zone, the job it creates
schedules  create, update, enable, disable, delete, show (next five firings and the jobs created)
firing     due timers fire once (the latest missed firing, never a burst), `trigger` fires now,
           and pending firings become jobs
triggers   event triggers: matching events, `${{event.…}}` bindings, loop protection
"""

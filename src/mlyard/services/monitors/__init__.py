"""Monitors (issue 14): Azure's `create_monitor`, stored, run as jobs of type monitor, and what
their verdicts set in motion.

specs          create_monitor checked whole at create time (the statistics layer's check passed in)
monitors       create, get, list, show (latest verdicts, last runs), history, delete; results stored
runs           a monitor run as a Queued job of type monitor, its windows fixed by `as_of`
sources        the files of a window: collected data, batch jobs' inputs and predictions, data assets
alerts         each signal's alert state; alert, recovery and stale-model events once per change;
               Azure's breach tag on the run
notifications  the monitor's `alert_notification` (emails, webhooks) as subscriptions it keeps
"""

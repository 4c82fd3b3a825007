"""Monitors (issue 14): what a monitor run's verdicts set in motion.

alerts         each signal's alert state; alert, recovery and stale-model events once per change;
               Azure's breach tag on the run
notifications  the monitor's `alert_notification` (emails, webhooks) as subscriptions it keeps
"""

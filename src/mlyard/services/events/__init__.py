"""Events: the outbox every change writes to, subscriptions, and delivery to webhooks and email.

catalog        which event types exist; a type named by a user, checked (did you mean …?)
outbox         `emit(session, type, subject, data)` in the change's own transaction; reading events
job_events     RunStatusChanged / RunCompleted with Azure's data fields, at each job status change
matching       a filter (`subject` or a data field → value or glob) against an event
signing        Standard Webhooks signatures; `verify` for receivers (`mlyard.events.verify`)
targets        which webhook URLs are acceptable (http(s), no link-local / cloud metadata: SSRF)
subscriptions  create, update, rotate secrets, delete; deliveries and redelivery
dispatch       the delivery loop's two steps: fan events out to deliveries, send what is due
senders        the HTTP POST and the SMTP message of one attempt
notices        the email text of a monitor alert, recovery or stale model: values, thresholds, commands
"""

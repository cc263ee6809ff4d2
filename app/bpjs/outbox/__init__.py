"""The BPJS outbox: rows written with the events they report, sent by a worker of their own.

`plan` writes the rows in the event's transaction, `claims` takes and settles them in short
transactions of their own, `deliver` sends them through the BPJS client, `worker` runs it in
the app's lifespan.
"""

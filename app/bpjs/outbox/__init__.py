"""The BPJS outbox: rows written with the events they report, sent by a worker of their own.

`plan` writes the rows in the events' transaction (reading the booking through `links`),
`claims` takes and settles them in short transactions of their own, `deliver` runs a pass
(`deliver_due`), `sender` calls BPJS with the clinic's credentials, `worker` runs the passes in
the app's lifespan, `admin` is what the clinic admin sees and retries.
"""

"""Realtime feeds: the display feed per clinic and the patient's ticket feed.

Every committed ticket event is rendered once, from the database, into a display message and
published to the hub; the hub fans it out to this process's sockets and, with Redis, to every
other process. The per-clinic `seq` comes from the database, so it is the same everywhere and
survives restarts; a process that misses messages (Redis dropped, a late publisher) fills the
gap from the database.
"""

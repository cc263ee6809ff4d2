"""The bridge to BPJS Kesehatan's Antrean Online FKTP (Mobile JKN).

Calling BPJS: signature.py signs a call, crypto.py opens BPJS's encrypted answers, calls.py
holds the calls as data, client.py sends them and outcome.py says how each ended; fake/ is a
BPJS stand-in for tests and for trying the bridge without credentials.
"""

"""The bridge to BPJS Kesehatan's Antrean Online FKTP (Mobile JKN).

signature.py signs calls, crypto.py opens BPJS's encrypted answers, client.py calls BPJS and
says how each call ended, fake/ is a BPJS stand-in for tests and trials without credentials.
"""

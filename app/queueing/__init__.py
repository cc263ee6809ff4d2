"""The queue rules: numbering, states, priority, call-next, estimates. No HTTP in here.

Functions that change tickets own their transaction: they commit on success, and on a domain
error they raise before anything is committed, so a refused request changes nothing.
"""

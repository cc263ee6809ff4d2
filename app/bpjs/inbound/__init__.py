"""What Mobile JKN calls at the clinic (Antrean Online FKTP): a token, then status, booking,
remaining queue, cancellation and new-patient registration, under `/bpjs/fktp/{clinic code}/`.

Every answer is BPJS's envelope, `{"response": ..., "metadata": {"message", "code"}}`, with
HTTP 200 and the outcome in `metadata.code` (200 ok, 201 refused with the reason in Indonesian,
202 a card the clinic does not know yet), as Mobile JKN expects; bad input of any kind gets the
envelope with 201, never FastAPI's 422. Only too many requests gets an HTTP status of its own
(429, with the envelope too).
"""

"""Outgoing webhooks: an outbox of events, endpoints that subscribe to them,
and their signed, ordered, retried delivery.

Apps call ``handoff.webhooks.outbox.record_event`` inside the transaction of
the change it reports, with the payload they build; the kernel fans the event
out to one delivery per endpoint that wants it and sends them after commit
(``delivery.py``), signed as the Standard Webhooks specification says
(``sending.py``). Endpoints are managed through ``services.py``.
"""

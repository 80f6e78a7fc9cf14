"""Notices to people: in the app, by email and by chat.

An app announces an event for a person with ``services.notify`` inside the
transaction of the change; the notice row is recorded there and then (so it
exists exactly when the change committed), and a worker delivers its email
and chat message after commit (``delivery``), retried with backoff, with a
periodic sweep for what a lost message left behind. Each person chooses the
channels of each kind of notice on their settings page (``views``).
"""

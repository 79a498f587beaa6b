"""The Zendesk connection layer shared by the tap's streams and the target's sinks.

Imports stay one-way: this package imports neither ``tap_zendesk.streams`` nor ``target_zendesk``.
"""

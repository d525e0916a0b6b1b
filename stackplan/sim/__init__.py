"""The embedded OpenStack cloud (`stackplan sim`): Keystone, Nova and Glance on one port.

It is the other side of the wire, so it imports nothing from the rest of stackplan:
shared code would let one bug pass on both sides. Public API: `app.SimOptions`, `app.start`.
"""

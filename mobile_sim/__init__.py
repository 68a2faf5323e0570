"""mobile_sim: plays Duo Mobile over its device protocol, plus the carrier and a mail inbox.

Imports nothing from `authsvc`: it is an independent implementation of public protocols, so it
catches the server's mistakes instead of sharing them.
"""

__version__ = "0.1.0"

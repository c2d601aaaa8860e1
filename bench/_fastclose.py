"""PROTOTYPE pytest plugin (``-p bench._fastclose``): no 250 ms sleep in ccxt's ``close()``.

ccxt's async ``Exchange.close`` sleeps ``timeout_on_exit`` (250 ms) so SSL transports can
shut down (ccxt PR 23470). A replayed cassette or the plain-HTTP simulator has no SSL
transport to wait for, yet every contract test pays it once per adapter it closes.
"""

import ccxt.async_support

ccxt.async_support.Exchange.timeout_on_exit = 0

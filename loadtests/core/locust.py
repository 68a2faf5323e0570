"""What the locust scenarios share: calls signed as duo_client signs them, through locust's client,
and reading Duo's envelope out of what came back.

Imported only by the locust scenarios (locust is a development dependency, not the benchmarks').
"""

from __future__ import annotations

from typing import Any

from locust.contrib.fasthttp import FastHttpSession, ResponseContextManager

from loadtests.core.signing import signed_get, signed_host, signed_post


class Signer:
    """One integration's keys, signing for the host locust was pointed at."""

    def __init__(self, ikey: str, skey: str, base_url: str) -> None:
        self.ikey = ikey
        self.skey = skey
        self.host = signed_host(base_url)

    def post(self, client: FastHttpSession, path: str, params: dict[str, str],
             name: str) -> ResponseContextManager:
        """A signed JSON POST, recorded as `name`, its success judged by the caller."""
        signed = signed_post(ikey=self.ikey, skey=self.skey, host=self.host, path=path,
                             params=params)
        return client.post(path, data=signed.body, headers=signed.headers, name=name,
                           catch_response=True)

    def get(self, client: FastHttpSession, path: str, params: dict[str, str],
            name: str) -> ResponseContextManager:
        """A signed GET, recorded as `name`, its success judged by the caller."""
        signed = signed_get(ikey=self.ikey, skey=self.skey, host=self.host, path=path,
                            params=params)
        return client.get(signed.path_and_query, headers=signed.headers, name=name,
                          catch_response=True)


def answer_of(response: ResponseContextManager) -> dict[str, Any]:
    """The ``response`` object of Duo's envelope ({} for anything else, or no body at all)."""
    try:
        body: Any = response.json()
    except (ValueError, TypeError):  # TypeError: no body at all (the connection failed)
        return {}
    answer = body.get("response") if isinstance(body, dict) else None
    return answer if isinstance(answer, dict) else {}


def describe(response: ResponseContextManager) -> str:
    """What came back, for a failure message."""
    if response.text is None:
        return f"no answer: {getattr(response, 'error', None)!r}"
    return f"HTTP {response.status_code}: {response.text[:200]}"

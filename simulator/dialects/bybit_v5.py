"""Bybit v5 (placeholder)."""
from typing import Any
class BybitV5Dialect:
    name = "bybit_v5"
    prefixes = ("/v5/",)
    def install(self, state: Any) -> None: ...
    def parse_params(self, method: str, raw_query: str, raw_body: str) -> dict[str, str]:
        return {}
    def bad_encoding(self) -> Any: ...
    def serve(self, state: Any, request: Any, fault: Any) -> Any: ...

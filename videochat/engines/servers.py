"""The servers a user adds in the window: their address rule, and a served model as the model list names it.

An address is what the user typed, and what the settings file holds (edited, or hostile): only
http and https, a host, a port that is a number, no user or password in it (a key belongs in the
0600 key file, `engines/keys.py`, never in an address that settings, sessions and logs show), no
whitespace or control character. The query and fragment are dropped: engines ignore them, and an
address is recorded and shown without them (`EngineClient.display_url`'s form), so one server has
one spelling, which its stored key is filed under.

A model on a server is chosen in the model list as one string, `engine_choice(url, model)`, which
the settings keep as the last model and the model thread recognises: `engine:` and the address
(no whitespace, by the rule above), a space, then the served model's id as the server spells it.
Plain Python, light to import: the settings read the server list before the window's first paint.
"""

from __future__ import annotations

from videochat.errors import VideoChatError

MAX_SERVERS = 20  # the model list shows each server's models: a longer list was not made by hand
MAX_ADDRESS_CHARS = 2048
ENGINE_PREFIX = "engine:"


class InvalidServerAddress(VideoChatError):
    """An address that is not a server's: not http(s), no host, credentials in it, too long."""


def server_address(text: str) -> str:
    """The address as recorded and shown (scheme, host, port, path; no query or fragment), or `InvalidServerAddress` saying what to type."""
    from urllib.parse import urlsplit

    from videochat.safe_text import shown

    example = "give one like http://127.0.0.1:8000 (vLLM, SGLang, LMDeploy or videochat serve)"
    if not isinstance(text, str) or not text.strip():
        raise InvalidServerAddress(f"No address: {example}.")
    text = text.strip()
    if len(text) > MAX_ADDRESS_CHARS or any(c.isspace() or not c.isprintable() for c in text):
        raise InvalidServerAddress(f"That address has spaces or control characters in it, or is too long: {example}.")
    try:
        parts = urlsplit(text)
    except ValueError:  # "Invalid IPv6 URL": a bracket without its pair
        raise InvalidServerAddress(f"{shown(text[:200])} has an unmatched [ or ]: {example}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidServerAddress(f"{shown(text[:200])} is not an http or https address: {example}.")
    if "@" in parts.netloc:  # never echo what follows: it may be a password
        raise InvalidServerAddress("The address holds a user name or password (user:pass@): leave it out, and give the key in the API key field instead.")
    try:
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise InvalidServerAddress(f"{shown(text[:200])} has a port that is not a number from 0 to 65535: {example}.") from None
    if not host:
        raise InvalidServerAddress(f"{shown(text[:200])} names no host: {example}.")
    if "[" in parts.netloc and not _bracketed_ipv6(parts.netloc):  # urlsplit reads [::1]x:80 as [::1], and [name] as name
        raise InvalidServerAddress(f"{shown(text[:200])} has something other than an IPv6 address, and then a port, in brackets: {example}.")
    scheme = parts.scheme.lower()
    shown_host = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    path = parts.path.rstrip("/")
    path = path[: -len("/v1")] if path.endswith("/v1") else path  # http://host/v1 and http://host are one server
    return f"{scheme}://{shown_host}{'' if port in (None, default) else f':{port}'}{path}"


def _bracketed_ipv6(netloc: str) -> bool:
    import ipaddress
    import re

    match = re.fullmatch(r"\[([^\]]+)\](:\d*)?", netloc)
    try:
        return match is not None and ipaddress.IPv6Address(match.group(1)) is not None
    except ValueError:
        return False


def server_list(entries: object) -> list[str]:
    """The first `MAX_SERVERS` usable addresses of `entries` (a settings value), each once, as recorded; the rest dropped."""
    if not isinstance(entries, list):
        return []
    kept: list[str] = []
    for entry in entries:
        try:
            address = server_address(entry)
        except InvalidServerAddress:
            continue
        if address not in kept:
            kept.append(address)
            if len(kept) == MAX_SERVERS:
                break
    return kept


def engine_choice(address: str, model_id: str) -> str:
    """One served model as the model list's data and the settings' last model."""
    return f"{ENGINE_PREFIX}{server_address(address)} {model_id}"


def parse_engine_choice(text: object) -> tuple[str, str] | None:
    """(address, model id) of a string made by `engine_choice`; None for anything else (a catalog name, a folder)."""
    if not isinstance(text, str) or not text.startswith(ENGINE_PREFIX) or " " not in text:
        return None
    address, model_id = text[len(ENGINE_PREFIX):].split(" ", 1)
    try:
        address = server_address(address)
    except InvalidServerAddress:
        return None
    return (address, model_id) if model_id else None


def served_label(model_id: str, address: str) -> str:
    """`InternVL2-8B @ host:port`: the model's last path part (its repo name) and where it is served."""
    from urllib.parse import urlsplit

    name = model_id.rstrip("/").rsplit("/", 1)[-1] or model_id
    return f"{name} @ {urlsplit(address).netloc or address}"

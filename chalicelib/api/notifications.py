"""Notification settings: each user who may see a graph sets their own (when, a webhook URL, an email
address); the signing secret of their webhook is theirs, shown only to them. Nobody reads or changes
another user's settings (an admin neither: the secret signs messages in that user's name)."""
from __future__ import annotations

import os

from chalicelib.domain import automation
from chalicelib.domain.errors import BadRequestError
from chalicelib.engine import notifications
from chalicelib.store import automation as store
from chalicelib.store import aws

from . import graphs

DEFAULTS = {"on": "never", "webhook_url": None, "email": None}


def _view(graph_id: str, record: object) -> dict:
    data = dict(getattr(record, "data", None) or {})
    secret = data.pop("secret", None)
    return {"graph_id": graph_id, **DEFAULTS, **data, "secret": secret,
            "signature_header": automation.SIGNATURE_HEADER, "timestamp_header": automation.TIMESTAMP_HEADER}


def get(graph_id: str, user: str) -> dict:
    """The caller's own settings for the graph (who may see the graph)."""
    graphs.get_graph(graph_id, user)
    return _view(graph_id, store.settings_of(graph_id, str(user)))


def put(graph_id: str, body: dict, user: str) -> dict:
    """Set the caller's settings; the first ones get a signing secret, kept after (`rotate_secret`: a new one)."""
    graphs.get_graph(graph_id, user)
    rotate = body.pop("rotate_secret", False) if isinstance(body, dict) else False
    if not isinstance(rotate, bool):
        raise BadRequestError("`rotate_secret` must be true or false")
    settings = automation.check_settings(body)
    if settings["webhook_url"]:
        try:
            notifications.resolve(settings["webhook_url"])  # checked again at each send (DNS may change)
        except notifications.Refused as exc:
            raise BadRequestError(f"`webhook_url` refused: {exc}") from exc
    previous = store.settings_of(graph_id, str(user))
    secret = (previous.data or {}).get("secret") if previous is not None and not rotate else None
    if settings["email"] and settings["email"] != ((previous.data or {}).get("email") if previous else None):
        _subscribe(str(user), settings["email"])
    record = store.put_settings(graph_id, str(user), settings, secret or automation.new_secret())
    return _view(graph_id, record)


def delete(graph_id: str, user: str) -> None:
    graphs.get_graph(graph_id, user)
    store.delete_settings(graph_id, str(user))


def _subscribe(username: str, address: str) -> None:
    """In the cloud: subscribe the address to the stage's topic, filtered to this user's messages to this address
    (SNS mails it a confirmation first). Locally there is no topic: emails go to the stack's log."""
    topic = os.environ.get("PLYNX_NOTIFY_TOPIC_ARN")
    if not topic:
        return
    import json

    aws.client("sns").subscribe(TopicArn=topic, Protocol="email", Endpoint=address,
                                # by user and address: a subscription of an address the user has since changed
                                # or dropped matches nothing they are sent any more
                                Attributes={"FilterPolicy": json.dumps({"user": [username], "email": [address]})})

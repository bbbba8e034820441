"""The API layer: what a request asks for (bodies, actions, auth), checked against who asks, handed down."""

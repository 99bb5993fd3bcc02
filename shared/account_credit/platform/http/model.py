"""The base of every request and response body of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and serializer are built when it is first used, not at import: a function
    imports the bodies of all its routes (and the shared ones), and building them all cost a cold start ~70 ms
    while a request uses one or two. Configuration set in a subclass's ``model_config`` is merged with this."""

    model_config = ConfigDict(defer_build=True)

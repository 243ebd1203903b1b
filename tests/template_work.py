"""How many Django template nodes a block of code renders: page tests assert it does not grow
with a page's rows, as query-count tests do for queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.template.base import Node


class NodeRenders:
    count = 0


@contextmanager
def count_node_renders() -> Iterator[NodeRenders]:
    counted = NodeRenders()
    render = Node.render_annotated

    def counting(node: Node, context):
        counted.count += 1
        return render(node, context)

    with mock.patch.object(Node, "render_annotated", counting):
        yield counted

"""A tree updated in place from plain values: nodes are keyed by stable ids, labels are replaced,
nodes are added or removed only where the structure changed, so expansion and the cursor survive
every live update (tui-anchors §3.4: keep a dict of node ids, mutate labels)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from widgets.fleet_table import Cell
from widgets.safe_text import visible
from widgets.tones import TONE_CLASSES, tone_styles


@dataclass(frozen=True)
class TreeItem:
    id: str
    label: tuple[Cell, ...]
    children: tuple[TreeItem, ...] = ()


class LiveTree(Tree[str]):
    COMPONENT_CLASSES: ClassVar[set[str]] = set(Tree.COMPONENT_CLASSES) | set(TONE_CLASSES)

    def __init__(self, label: str = "", *, id: str | None = None) -> None:
        super().__init__(Text(visible(label)), id=id)
        self.show_root = False
        self.guide_depth = 3
        self._by_id: dict[str, TreeNode[str]] = {}
        self._labels: dict[str, tuple[Cell, ...]] = {}
        self._styles: dict[str, Style] | None = None

    @property
    def node_ids(self) -> list[str]:
        return list(self._by_id)

    def node_for(self, node_id: str) -> TreeNode[str] | None:
        return self._by_id.get(node_id)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        if self.is_mounted:
            for node_id, node in self._by_id.items():
                node.set_label(self._text(self._labels[node_id]))

    def _text(self, cells: Sequence[Cell]) -> Text:
        if self._styles is None:
            self._styles = tone_styles(self)
        out = Text()
        for cell in cells:
            out.append(visible(cell.text), style=self._styles.get(cell.tone) or "")
        return out

    def show(self, items: Sequence[TreeItem]) -> None:
        """Make the tree equal to `items`, touching only what differs."""
        cursor = self.cursor_node
        keep: set[str] = set()
        self._sync(self.root, items, keep)
        for node_id in [n for n in self._by_id if n not in keep]:
            node = self._by_id.pop(node_id)
            self._labels.pop(node_id, None)
            if node.tree is self and node.parent is not None:
                try:
                    node.remove()
                except Exception:  # noqa: BLE001 - already removed with its parent
                    pass
        if cursor is not None and cursor.data in self._by_id:
            self.move_cursor(self._by_id[cursor.data])
        elif self.cursor_node is None and self.root.children:
            self.move_cursor(self.root.children[0])

    def _sync(self, parent: TreeNode[str], items: Sequence[TreeItem], keep: set[str]) -> None:
        wanted = [i.id for i in items]
        for index, item in enumerate(items):
            keep.add(item.id)
            node = self._by_id.get(item.id)
            if node is not None and node.parent is not parent:
                node.remove()
                self._by_id.pop(item.id)
                node = None
            if node is None:
                before = next(
                    (
                        self._by_id[w]
                        for w in wanted[index + 1 :]
                        if w in self._by_id and self._by_id[w].parent is parent
                    ),
                    None,
                )
                node = parent.add(self._text(item.label), data=item.id, before=before, expand=True)
                self._by_id[item.id] = node
                self._labels[item.id] = item.label
            elif self._labels.get(item.id) != item.label:
                node.set_label(self._text(item.label))
                self._labels[item.id] = item.label
            node.allow_expand = bool(item.children)
            self._sync(node, item.children, keep)

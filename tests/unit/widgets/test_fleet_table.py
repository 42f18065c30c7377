"""FleetTable and LiveTree: plain values in, in-place updates, columns dropped by priority."""

from __future__ import annotations

from textual.app import App, ComposeResult

from widgets.fleet_table import Cell, Column, FleetTable, Group, Row
from widgets.live_tree import LiveTree, TreeItem

COLUMNS = [
    Column("name", "NAME", 20, 100),
    Column("status", "STATUS", 12, 90),
    Column("extra", "EXTRA", 30, 10),
    Column("msg", "MESSAGE", 0, 95, min_width=15, flex=True),
]


def row(key: str, group: str, status: str = "ok", rank: int = 1, msg: str = "") -> Row:
    return Row(
        key,
        group,
        {"name": Cell(key), "status": Cell(status), "extra": Cell("x" * 30), "msg": Cell(msg)},
        (rank, key),
    )


class _App(App[None]):
    def compose(self) -> ComposeResult:
        yield FleetTable(COLUMNS)
        yield LiveTree()


def lines(t: FleetTable) -> list[str]:
    return ["".join(s.text for s in t.render_line(y)).rstrip() for y in range(t.size.height)]


async def test_columns_are_dropped_by_priority_not_clipped() -> None:
    app = _App()
    async with app.run_test(size=(60, 12)):
        t = app.query_one(FleetTable)
        assert [c.key for c, _ in t.column_layout(60)] == ["name", "status", "msg"]  # extra (p10) dropped
        assert [c.key for c, _ in t.column_layout(100)] == ["name", "status", "extra", "msg"]
        assert [c.key for c, _ in t.column_layout(30)][0] == "name"  # the first column always stays
        layout = dict((c.key, w) for c, w in t.column_layout(60))
        assert layout["msg"] == 60 - 20 - 12 - 2  # two separating spaces


async def test_updates_touch_only_changed_rows_and_keep_the_cursor() -> None:
    app = _App()
    async with app.run_test(size=(80, 12)) as pilot:
        t = app.query_one(FleetTable)
        groups = {"b": Group("b", (Cell("b"),), (1, "b")), "a": Group("a", (Cell("a"),), (0, "a"))}
        t.set_rows([row("a1", "a"), row("a2", "a"), row("b1", "b")], groups)
        assert t.lines == ["\x00group:a", "a1", "a2", "\x00group:b", "b1"]
        t.move_to("a2")
        versions = dict(t._s.versions)
        assert t.update_rows([row("a1", "a"), row("b1", "b", "bad", msg="new")]) == 1  # a1 unchanged
        assert t._s.versions["b1"] == versions["b1"] + 1 and t._s.versions["a1"] == versions["a1"]
        assert t.cursor_key == "a2"
        t.update_rows(
            [row("b1", "b", rank=0, msg="new")], groups={**groups, "b": Group("b", (Cell("b"),), (-1, "b"))}
        )
        assert (
            t.lines[:2] == ["\x00group:b", "b1"] and t.cursor_key == "a2"
        )  # regrouped, cursor follows the key
        await pilot.pause()
        assert any("new" in ln for ln in lines(t))


async def test_filter_collapse_and_jump() -> None:
    app = _App()
    async with app.run_test(size=(80, 12)) as pilot:
        t = app.query_one(FleetTable)
        t.set_rows([row(f"a{i}", "a") for i in range(3)] + [row("b0", "b")], {})
        t.set_filter({"a1", "b0"})
        assert t.row_keys == ["a1", "b0"]
        t.set_collapsed("b", True)
        assert t.row_keys == ["a1"] and "\x00group:b" in t.lines
        assert t.jump({"b0"}) and t.cursor_key == "b0" and not t.collapsed("b")  # jumping expands
        t.set_filter(None)
        t.move_to("a0")
        await pilot.press("space")
        assert t.collapsed("a") and t.cursor_key == "\x00group:a"


async def test_live_tree_keeps_nodes_expansion_and_cursor() -> None:
    app = _App()
    async with app.run_test(size=(80, 12)) as pilot:
        tree = app.query_one(LiveTree)
        pod = TreeItem("pod1", (Cell("Pod pod1"),))
        rs = TreeItem("rs", (Cell("ReplicaSet"),), (pod,))
        tree.show(
            [
                TreeItem("dep", (Cell("Deployment"), Cell(" ok", "ok")), (rs,)),
                TreeItem("svc", (Cell("Service"),)),
            ]
        )
        await pilot.pause()
        dep, rs_node, svc = tree.node_for("dep"), tree.node_for("rs"), tree.node_for("svc")
        assert dep is not None and rs_node is not None and svc is not None
        rs_node.collapse()
        tree.move_cursor(svc)
        pod2 = TreeItem("pod2", (Cell("Pod pod2"),))
        tree.show(
            [
                TreeItem(
                    "dep", (Cell("Deployment"), Cell(" bad", "bad")), (TreeItem("rs", rs.label, (pod2,)),)
                ),
                TreeItem("svc", (Cell("Service"),)),
            ]
        )
        await pilot.pause()
        assert tree.node_for("dep") is dep and str(dep.label) == "Deployment bad"  # label mutated in place
        assert tree.node_for("rs") is rs_node and not rs_node.is_expanded
        assert tree.node_for("pod1") is None and tree.node_for("pod2") is not None
        assert tree.cursor_node is svc

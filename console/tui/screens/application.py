"""One Application: header (project, source -> resolved commit, destination, policy, windows,
conditions, runbooks) and tabs: Resources (live tree), Diff (attributed), Operation, History,
Events, Logs. The screen opens at once from the Application object the feed already has; the
tree, diff, events and history subjects load in thread workers and fill in when ready.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Log, OptionList, Static, TabbedContent, TabPane, Tree
from textual.widgets.option_list import Option

from console.cluster.api import ClusterError
from console.cluster.events import EventRecord
from console.engine import diffview, links, observe
from console.engine.fleet import AppFacts
from console.engine.refresh import compare_one
from console.tui.format import age, ago, clock, short
from console.tui.messages import Loaded, LogLines
from console.tui.screens.base import ActionScreen
from widgets.fleet_table import Cell, Column, FleetTable, Row
from widgets.live_tree import LiveTree, TreeItem
from widgets.safe_text import visible
from widgets.status import label, symbol_of, tone_of
from widgets.text import append_safe, safe_text
from widgets.tones import tone_styles

Obj = dict[str, Any]
TABS = ("resources", "diff", "operation", "history", "events", "logs")
TAILS = (200, 1000, None)
TREE_EVERY = 3.0  # seconds between live tree reloads while the screen is open
EVENT_COLUMNS = [  # at 80 columns: LAST, REASON (with the type's symbol), OBJECT, MESSAGE
    Column("last", "LAST", 6, 90),
    Column("type", "TYPE", 10, 30),
    Column("reason", "REASON", 19, 85),
    Column("object", "OBJECT", 32, 80),
    Column("count", "COUNT", 5, 50),
    Column("from", "FROM", 18, 40),
    Column("message", "MESSAGE", 0, 95, min_width=18, flex=True),
]


class ApplicationScreen(ActionScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "1",
            "tab('resources')",
            "Resources",
            show=False,
            id="app.tab-resources",
            tooltip="Live resource tree",
        ),
        Binding(
            "2", "tab('diff')", "Diff", id="app.tab-diff", tooltip="Git vs live, with who changed each field"
        ),
        Binding(
            "3",
            "tab('operation')",
            "Operation",
            show=False,
            id="app.tab-operation",
            tooltip="The running or last operation",
        ),
        Binding(
            "4", "tab('history')", "History", show=False, id="app.tab-history", tooltip="Deployed revisions"
        ),
        Binding(
            "5",
            "tab('events')",
            "Events",
            show=False,
            id="app.tab-events",
            tooltip="Kubernetes Events of the app's objects",
        ),
        Binding("6", "tab('logs')", "Logs", show=False, id="app.tab-logs", tooltip="Container logs of a pod"),
        Binding(
            "l", "logs", "Logs", id="app.logs", tooltip="Logs of the selected pod (or the app's first pod)"
        ),
        Binding(
            "o",
            "pager",
            "Pager",
            show=False,
            id="app.pager",
            tooltip="Open the diff (or log) in $PAGER / delta",
        ),
        Binding(
            "f", "follow", "Follow", show=False, id="app.follow", tooltip="Logs: follow new lines on/off"
        ),
        Binding("t", "tail", "Tail", show=False, id="app.tail", tooltip="Logs: last 200 / 1000 / all lines"),
        Binding(
            "right_square_bracket",
            "pod(1)",
            "Next pod",
            show=False,
            id="app.next-pod",
            tooltip="Logs: next pod",
        ),
        Binding(
            "left_square_bracket",
            "pod(-1)",
            "Prev pod",
            show=False,
            id="app.prev-pod",
            tooltip="Logs: previous pod",
        ),
        Binding(
            "right_curly_bracket",
            "container(1)",
            "Next container",
            show=False,
            id="app.next-container",
            tooltip="Logs: next container of the pod",
        ),
        Binding("c", "changes", "Changes", id="app.changes", tooltip="Change timeline of this application"),
        Binding(
            "b",
            "runbook",
            "Runbook",
            id="app.runbook",
            tooltip="Walk the runbook that fits this application's state, with live evidence",
        ),
        Binding(
            "r",
            "refresh_app",
            "Refresh",
            id="app.refresh",
            tooltip="Compare this application with Git and its cluster now",
        ),
        Binding(
            "y",
            "copy",
            "Copy",
            show=False,
            id="app.copy",
            tooltip="Copy the selected resource's name, or the diff (OSC 52)",
        ),
    ]

    def __init__(self, app_name: str) -> None:
        super().__init__()
        self.app_name = app_name
        self.tree_nodes: list[observe.TreeNode] = []
        self.diffs: list[diffview.ResourceDiffView] = []
        self.diff_error = ""
        self.diff_index = 0
        self.events: list[EventRecord] = []
        self.history_subjects: dict[str, str] = {}
        self.log_pod: str | None = None
        self.log_container: str | None = None
        self.log_follow = True
        self.log_tail_index = 0
        self.log_lines = 0
        self.log_error = ""
        self._log_stream: Any = None
        self._gen: dict[str, int] = {}
        self._tree_loading = False
        self._last_tree = 0.0
        self.loaded: set[str] = set()
        self.errors: dict[str, str] = {}
        self._tones: dict[str, Any] | None = None
        self._built: set[str] = {"resources"}
        self.first_frame_at: float | None = None

    def crumbs(self) -> list[str]:
        tab = self.current_tab() if self.is_mounted else "resources"
        return ["trueup", "Applications", self.app_name, tab.capitalize()]

    @property
    def obj(self) -> Obj:
        return self.console.fleet.get(self.app_name) or {"metadata": {"name": self.app_name}}

    @property
    def facts(self) -> AppFacts | None:
        return self.console.facts.get(self.app_name)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield from self.top()
        yield Static(id="app-header")
        with TabbedContent(initial="resources", id="tabs"):
            with TabPane("1 Resources", id="resources"):
                yield ResourceTree(id="tree")
                yield Static(id="node-detail", classes="detail")
            # the other panes are built when first shown: the screen's first frame mounts only
            # what it shows (Textual computes styles for every mounted widget, shown or not)
            yield TabPane("2 Diff", id="diff")
            yield TabPane("3 Operation", id="operation")
            yield TabPane("4 History", id="history")
            yield TabPane("5 Events", id="events-pane")
            yield TabPane("6 Logs", id="logs")
        yield from self.bottom()

    def _widgets(self, tab: str) -> list[Widget]:
        if tab == "diff":
            return [
                OptionList(id="diff-resources"),
                VerticalScroll(DiffBody(id="diff-body"), id="diff-scroll"),
            ]
        if tab == "operation":
            return [VerticalScroll(ToneStatic(id="op-body"), id="op-scroll")]
        if tab == "history":
            return [VerticalScroll(ToneStatic(id="history-body"), id="history-scroll")]
        if tab == "events":
            return [FleetTable(EVENT_COLUMNS, grouped=False, id="events")]
        return [Static(id="log-target"), Log(id="log", max_lines=5000, highlight=False)]

    def built(self, tab: str) -> bool:
        return tab in self._built

    async def ensure_tab(self, tab: str) -> None:
        """Mount a tab's widgets on first use, then show what was loaded meanwhile."""
        if tab in self._built:
            return
        self._built.add(tab)
        pane = self.query_one(f"#{'events-pane' if tab == 'events' else tab}", TabPane)
        await pane.mount(*self._widgets(tab))
        if tab == "diff":
            if "diff" in self.loaded or "diff" in self.errors:
                self._render_diff()
            else:
                self.query_one("#diff-body", DiffBody).update(safe_text("comparing with Git…"))
        elif tab == "operation":
            self.render_operation()
        elif tab == "history":
            self.render_history()
        elif tab == "events":
            self._render_events()
        elif tab == "logs":
            self.query_one("#log-target", Static).update(
                safe_text("select a pod in Resources and press l (or ] for the next pod)")
            )

    def on_mount(self) -> None:
        if not self.query("#tree"):
            # seen while an action worker posts results: the tabs compose a moment later
            self.call_after_refresh(self.on_mount)
            return
        super().on_mount()
        self.call_after_refresh(self._first_frame)
        self.render_header()
        self.render_operation()
        self.render_history()
        self.query_one("#tree", ResourceTree).show([])
        self.query_one("#node-detail", Static).update(safe_text("loading the resource tree…"))
        self.load_tree()
        self.load_diff()
        self.load_history_subjects()
        if self.console.live:
            self.set_interval(TREE_EVERY, self._tree_tick)
        self.query_one("#tree", ResourceTree).focus()

    def _first_frame(self) -> None:
        self.first_frame_at = time.perf_counter()  # bench/console.py reads it

    def focus_body(self) -> None:
        tab = self.current_tab()
        target = {"resources": "#tree", "diff": "#diff-resources", "events": "#events", "logs": "#log"}.get(
            tab
        )
        if target and self.built(tab):
            self.query_one(target).focus()

    def current_tab(self) -> str:
        active = self.query_one("#tabs", TabbedContent).active
        return "events" if active == "events-pane" else (active or "resources")

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_crumbs()
        tab = self.current_tab()
        await self.ensure_tab(tab)
        if tab == "events" and "events" not in self.loaded:
            self.load_events()
        if tab == "logs" and self.log_pod is None:
            pods = observe.pods(self.tree_nodes)
            if pods:
                self.start_logs(pods[0].name)
        self.focus_body()

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = "events-pane" if tab == "events" else tab

    # ------------------------------------------------------------------ live updates

    def fleet_changed(self, changed: dict[str, Any]) -> None:
        if self.app_name not in changed or not self.is_mounted:
            return  # (pushed, not yet mounted: on_mount renders what is there then)
        if changed[self.app_name] is None:
            self.console.set_notice(f"application {self.app_name} was deleted", error=True)
        self.render_header()
        self.render_operation()
        self.render_history()
        self.load_tree()

    def fleet_loaded(self) -> None:
        self.fleet_changed({self.app_name: self.console.fleet.get(self.app_name)})

    def _tree_tick(self) -> None:
        if not self.console.paused and time.monotonic() - self._last_tree >= TREE_EVERY:
            self.load_tree()
            if "events" in self.loaded:
                self.load_events()

    def _next(self, what: str) -> int:
        self._gen[what] = self.console.next_generation()
        return self._gen[what]

    def on_loaded(self, message: Loaded) -> None:
        if self._gen.get(message.what) != message.generation:
            return  # an answer for an older request
        message.stop()
        if message.error:
            self.errors[message.what] = message.error
        else:
            self.errors.pop(message.what, None)
            self.loaded.add(message.what)
        handler = getattr(self, f"_loaded_{message.what}")
        handler(message.value, message.error)
        self.refresh_status()

    def styles_of_tones(self) -> dict[str, Any]:
        if self._tones is None:
            self._tones = tone_styles(self.query_one("#tree", ResourceTree))
        return self._tones

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._tones = None

    # ------------------------------------------------------------------ header

    def render_header(self) -> None:
        app = self.obj
        f = self.facts
        c = self.console
        spec = app.get("spec") or {}
        status = app.get("status") or {}
        dest = spec.get("destination") or {}
        out = Text()
        styles = self.styles_of_tones()

        def put(text: str, tone: str = "") -> None:
            append_safe(out, text, styles.get(tone) or "")

        put(self.app_name, "group")
        if f is not None:
            put("  ")
            put(label(f.overall, ascii=c.ascii), tone_of(f.overall))
            put("  sync ", "muted")
            put(label(f.sync, ascii=c.ascii), tone_of(f.sync))
            put("  health ", "muted")
            put(label(f.health, ascii=c.ascii), tone_of(f.health))
            if f.health_since and f.health != "Healthy":
                put(f" for {age(f.health_since, c.now())}", "muted")
        put(f"  project {spec.get('project') or 'default'}\n", "muted")
        src = spec.get("source") or ((spec.get("sources") or [{}])[0])
        sync = status.get("sync") or {}
        rev = str(sync.get("revision") or "")
        subject = c.subjects.get(rev, "")
        put("source ", "muted")
        put(
            f"{src.get('repoURL', '')} {src.get('path') or src.get('chart') or ''} @ {src.get('targetRevision') or 'HEAD'}"
        )
        if rev:
            put(f" → {short(rev)}", "info")
            if subject:
                put(f' "{subject}"')
        if f is not None and f.sync == "OutOfSync" and f.synced_revision and rev and f.synced_revision != rev:
            put(f"  (running {short(f.synced_revision)})", "warn")
        put("\n")
        put("dest ", "muted")
        put(f"{dest.get('name') or dest.get('server', '')}/{dest.get('namespace', '')}")
        put("   policy ", "muted")
        auto = f.auto_sync if f is not None else "off"
        put(
            "manual (auto-sync off)" if auto == "off" else f"auto-sync {auto}",
            "muted" if auto == "off" else "",
        )
        put("   window ", "muted")
        if f is not None and f.window:
            put(label(f.window, ascii=c.ascii), tone_of(f.window))
        else:
            put("none")
        put("\n")
        conditions = [x for x in status.get("conditions") or [] if isinstance(x, dict)]
        for cond in conditions[:2]:
            put("condition ", "muted")
            put(
                f"{cond.get('type')}: {' '.join(str(cond.get('message', '')).split())}\n",
                "bad" if str(cond.get("type", "")).endswith("Error") else "warn",
            )
        found = links.links(app, [n.live for n in observe.walk(self.tree_nodes) if n.live is not None])
        if found:
            put("runbook ", "muted")
            put("  ".join(f"{lk.title}: {lk.url}" for lk in found[:3]), "info")
            put("\n")
        notes = links.info_notes(app)
        if notes:
            put("  ".join(f"{k}: {v}" for k, v in notes[:2]) + "\n", "muted")
        out.rstrip()
        out.no_wrap = True
        out.overflow = "ellipsis"
        self.query_one("#app-header", Static).update(out)

    # ------------------------------------------------------------------ resources

    def load_tree(self) -> None:
        if self._tree_loading:
            return
        self._tree_loading = True
        self._last_tree = time.monotonic()
        ws = self.console.worker_ws
        app = self.obj

        def fetch() -> list[observe.TreeNode]:
            live = observe.load_live(ws, app)
            return observe.resource_tree(app, live, observe.health_checker(ws))

        self.console.load(self, "tree", self._next("tree"), fetch)

    def _loaded_tree(self, value: list[observe.TreeNode] | None, error: str) -> None:
        self._tree_loading = False
        tree = self.query_one("#tree", ResourceTree)
        if error:
            if not self.tree_nodes:
                self.query_one("#node-detail", Static).update(
                    safe_text(f"cannot read the resource tree: {error}")
                )
            return
        self.tree_nodes = value or []
        tree.show([self._item(n) for n in self.tree_nodes])
        self._show_node_detail()
        self.render_header()

    def _item(self, n: observe.TreeNode) -> TreeItem:
        c = self.console
        cells = [Cell(f"{n.kind} ", "muted"), Cell(n.name)]
        if n.health:
            cells += [Cell("  "), Cell(label(n.health, ascii=c.ascii), tone_of(n.health))]
        if n.managed and n.sync:
            cells += [Cell("  "), Cell(label(n.sync, ascii=c.ascii), tone_of(n.sync))]
        if n.requires_pruning:
            cells.append(Cell("  requires pruning", "warn"))
        if n.info:
            cells.append(Cell(f"  {n.info}", "muted"))
        return TreeItem(n.id, tuple(cells), tuple(self._item(k) for k in n.children))

    def selected_node(self) -> observe.TreeNode | None:
        node = self.query_one("#tree", ResourceTree).cursor_node
        if node is None or node.data is None:
            return None
        return next((n for n in observe.walk(self.tree_nodes) if n.id == node.data), None)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        self._show_node_detail()

    def _show_node_detail(self) -> None:
        n = self.selected_node()
        box = self.query_one("#node-detail", Static)
        if n is None:
            box.update(
                safe_text(
                    "no resources recorded yet: the application has not been compared"
                    if not self.tree_nodes
                    else ""
                )
            )
            return
        parts = [
            f"{n.group + '/' if n.group else ''}{n.kind} {n.namespace + '/' if n.namespace else ''}{n.name}"
        ]
        if n.created:
            parts.append(f"created {ago(n.created, self.console.now())}")
        if n.kind == "Pod":
            parts.append("l: logs")
        out = safe_text(" · ".join(parts))
        if n.health_message:
            out.append("\n")
            append_safe(out, " ".join(n.health_message.split()))
        box.update(out)

    # ------------------------------------------------------------------ diff

    def load_diff(self) -> None:
        ws = self.console.worker_ws
        name = self.app_name

        def fetch() -> list[diffview.ResourceDiffView]:
            return diffview.app_diffs(compare_one(ws, name))

        self.console.load(self, "diff", self._next("diff"), fetch)

    def _loaded_diff(self, value: list[diffview.ResourceDiffView] | None, error: str) -> None:
        self.diffs = value or []
        self.diff_error = error
        if self.built("diff"):
            self._render_diff()

    def _render_diff(self) -> None:
        body = self.query_one("#diff-body", DiffBody)
        if self.diff_error:
            body.update(safe_text(f"cannot compare with Git: {self.diff_error}"))
            return
        options = self.query_one("#diff-resources", OptionList)
        options.clear_options()
        if not self.diffs:
            options.display = False
            body.update(safe_text("No differences: live matches Git for every resource of this application."))
            return
        options.display = True
        for i, d in enumerate(self.diffs):
            options.add_option(Option(safe_text(f"{d.title}  ({d.reason})"), id=str(i)))
        options.highlighted = min(self.diff_index, len(self.diffs) - 1)
        self._show_diff(options.highlighted or 0)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "diff-resources" and event.option.id is not None:
            self._show_diff(int(event.option.id))

    def _show_diff(self, index: int) -> None:
        if not self.diffs or not self.built("diff"):
            return
        self.diff_index = index
        self.query_one("#diff-body", DiffBody).show(self.diffs[index], self.styles_of_tones())

    # ------------------------------------------------------------------ operation

    def render_operation(self) -> None:
        if not self.built("operation"):
            return
        body = self.query_one("#op-body", ToneStatic)
        styles = self.styles_of_tones()
        status = self.obj.get("status") or {}
        op = status.get("operationState") or {}
        out = Text()

        def put(text: str, tone: str = "") -> None:
            append_safe(out, text, styles.get(tone) or "")

        c = self.console
        if self.obj.get("operation") and op.get("phase") not in ("Running", "Terminating"):
            put(
                "an operation is requested and waits for an executor (the controller or a CLI)\n\n",
                "progress",
            )
        if not op:
            put("No operation has run on this application yet.")
            body.update(out)
            return
        phase = str(op.get("phase") or "")
        by = (op.get("operation") or {}).get("initiatedBy") or {}
        who = str(by.get("username") or ("automated" if by.get("automated") else "unknown"))
        put(label(phase, ascii=c.ascii), tone_of(phase))
        put(f"  {' '.join(str(op.get('message') or '').split())}\n")
        rev = str(
            (op.get("syncResult") or {}).get("revision")
            or ((op.get("operation") or {}).get("sync") or {}).get("revision")
            or ""
        )
        put("started ", "muted")
        put(f"{clock(op.get('startedAt'))} ({ago(op.get('startedAt'), c.now())})")
        if op.get("finishedAt"):
            put("  finished ", "muted")
            put(f"{clock(op.get('finishedAt'))} ({ago(op.get('finishedAt'), c.now())})")
        put("\nby ", "muted")
        put(who + (" (automated)" if by.get("automated") and by.get("username") else ""))
        put("  revision ", "muted")
        put(short(rev) or "?")
        if op.get("retryCount"):
            put(f"  retry {op['retryCount']}", "warn")
        waves = {
            (r.get("kind"), r.get("namespace"), r.get("name")): r.get("syncWave", 0)
            for r in status.get("resources") or []
            if isinstance(r, dict)
        }
        tasks = [r for r in (op.get("syncResult") or {}).get("resources") or [] if isinstance(r, dict)]
        pending = [
            t
            for t in tasks
            if not t.get("status") and t.get("hookPhase") not in ("Succeeded", "Failed", "Error")
        ]
        if phase in ("Running", "Terminating") and pending:
            t = pending[0]
            put(
                f"\nnow: phase {t.get('syncPhase') or 'Sync'}, wave {waves.get((t.get('kind'), t.get('namespace'), t.get('name')), 0)}",
                "progress",
            )
        put("\n\n")
        if not tasks:
            put("no tasks recorded yet", "muted")
        for t in tasks:
            result = str(t.get("status") or t.get("hookPhase") or "Pending")
            word = {"Synced": "Succeeded", "SyncFailed": "Failed"}.get(result, result)
            wave = waves.get((t.get("kind"), t.get("namespace"), t.get("name")), 0)
            put(f"{label(word, ascii=c.ascii):<13}", tone_of(word))
            put(f" {str(t.get('syncPhase') or 'Sync'):<8} wave {wave:<3} ", "muted")
            where = f"{t.get('namespace')}/" if t.get("namespace") else ""
            put(f"{t.get('kind')} {where}{t.get('name')}")
            if t.get("hookType"):
                put(f" (hook {t.get('hookType')})", "muted")
            if t.get("message"):
                put(
                    f"  {' '.join(str(t['message']).split())}",
                    "bad" if word in ("Failed", "Error") else "muted",
                )
            put("\n")
        out.rstrip()
        body.update(out)

    # ------------------------------------------------------------------ history

    def load_history_subjects(self) -> None:
        from console.engine import repos
        from console.engine.sources import RepoError

        app = self.obj
        ws = self.console.worker_ws

        def fetch() -> dict[str, str]:
            gitc = repos.git_cache(ws)
            out: dict[str, str] = {}
            for h in (app.get("status") or {}).get("history") or []:
                src = h.get("source") or ((h.get("sources") or [{}])[0])
                rev = str(h.get("revision") or "")
                if rev and src.get("repoURL") and rev not in out:
                    try:
                        out[rev] = gitc.commit_info(src["repoURL"], rev).subject
                    except (RepoError, OSError, ValueError):
                        out[rev] = ""
            return out

        self.console.load(self, "history", self._next("history"), fetch)

    def _loaded_history(self, value: dict[str, str] | None, error: str) -> None:
        self.history_subjects.update(value or {})
        self.render_history()

    def render_history(self) -> None:
        if not self.built("history"):
            return
        body = self.query_one("#history-body", ToneStatic)
        styles = self.styles_of_tones()
        status = self.obj.get("status") or {}
        history = [h for h in status.get("history") or [] if isinstance(h, dict)]
        out = Text()
        c = self.console

        def put(text: str, tone: str = "") -> None:
            append_safe(out, text, styles.get(tone) or "")

        if not history:
            put("No deployments recorded yet.")
        current = str((status.get("sync") or {}).get("revision") or "")
        for h in reversed(history):
            by = h.get("initiatedBy") or {}
            rev = str(h.get("revision") or ",".join(h.get("revisions") or []))
            subject = self.history_subjects.get(rev) or c.subjects.get(rev, "")
            put(f"#{h.get('id', '?'):<3} ", "group")
            put(f"{clock(h.get('deployedAt'))} ({ago(h.get('deployedAt'), c.now())})  ", "muted")
            put(short(rev), "info")
            if subject:
                put(f" {subject}")
            who = str(by.get("username") or "unknown")
            put(f"  by {who}" + (" (automated)" if by.get("automated") else ""), "muted")
            if h is history[-1]:
                put("  deployed", "ok")
            if rev == current and h is not history[-1]:
                put("  = Git now", "info")
            put("\n")
        out.rstrip()
        body.update(out)

    # ------------------------------------------------------------------ events

    def load_events(self) -> None:
        ws = self.console.worker_ws
        app = self.obj
        nodes = self.tree_nodes

        def fetch() -> list[EventRecord]:
            tree = nodes or observe.resource_tree(app, observe.load_live(ws, app), observe.health_checker(ws))
            return observe.app_events(ws, app, tree)

        self.console.load(self, "events", self._next("events"), fetch)

    def _loaded_events(self, value: list[EventRecord] | None, error: str) -> None:
        if error:
            self.console.set_notice(f"cannot read events: {error}", error=True)
            return
        self.events = value or []
        self._render_events()
        if not self.events:
            self.console.set_notice(
                "no events recorded for this application's objects (events expire after 1 h)"
            )

    def _render_events(self) -> None:
        if not self.built("events"):
            return
        events = self.events
        c = self.console
        built = []
        for e in events:
            inv = e.involved
            stamp = e.last.timestamp() if e.last else 0.0
            built.append(
                Row(
                    f"{e.namespace}/{e.name}",
                    "",
                    {
                        "last": Cell(age(e.last, c.now())),
                        "type": Cell(label(e.type, ascii=c.ascii), tone_of(e.type)),
                        "reason": Cell(
                            f"{symbol_of(e.type, ascii=c.ascii)} {e.reason}", "bad" if e.warning else ""
                        ),
                        "object": Cell(f"{inv.kind}/{inv.name}"),
                        "count": Cell(str(e.count)),
                        "from": Cell(e.component, "muted"),
                        "message": Cell(e.message),
                    },
                    (-stamp, inv.kind, inv.name, e.reason, e.message),
                )
            )
        self.query_one("#events", FleetTable).set_rows(built, {})

    # ------------------------------------------------------------------ logs

    async def action_logs(self) -> None:
        await self.ensure_tab("logs")
        n = self.selected_node()
        pods = observe.pods([n]) if n is not None else []
        if not pods:
            pods = observe.pods(self.tree_nodes)
        if not pods:
            self.console.set_notice("this application has no pods", error=True)
            return
        self.start_logs(pods[0].name)
        self.action_tab("logs")

    def _pod(self, name: str | None) -> observe.TreeNode | None:
        return next((p for p in observe.pods(self.tree_nodes) if p.name == name), None)

    def action_pod(self, step: int) -> None:
        pods = observe.pods(self.tree_nodes)
        if not pods:
            return
        names = [p.name for p in pods]
        i = names.index(self.log_pod) if self.log_pod in names else -1
        self.start_logs(names[(i + step) % len(names)])

    def action_container(self, step: int) -> None:
        pod = self._pod(self.log_pod)
        if pod is None:
            return
        names = observe.containers(pod)
        if len(names) < 2:
            return
        i = names.index(self.log_container) if self.log_container in names else 0
        self.start_logs(pod.name, names[(i + step) % len(names)])

    def action_follow(self) -> None:
        self.log_follow = not self.log_follow
        if self.log_pod:
            self.start_logs(self.log_pod, self.log_container)

    def action_tail(self) -> None:
        self.log_tail_index = (self.log_tail_index + 1) % len(TAILS)
        if self.log_pod:
            self.start_logs(self.log_pod, self.log_container)

    def start_logs(self, pod_name: str, container: str | None = None) -> None:
        pod = self._pod(pod_name)
        if pod is None or not self.built("logs"):
            return
        self.stop_logs()
        names = observe.containers(pod)
        self.log_pod = pod_name
        self.log_container = container or (names[0] if names else None)
        self.log_lines = 0
        self.log_error = ""
        log = self.query_one("#log", Log)
        log.clear()
        gen = self._next("logs")
        tail = TAILS[self.log_tail_index]
        self._render_log_target("connecting…")
        ws = self.console.worker_ws
        app = self.obj
        follow = self.log_follow and self.console.live
        screen = self

        def job() -> None:
            try:
                stream = observe.open_log(ws, app, pod, screen.log_container, tail=tail, follow=follow)
            except (ClusterError, observe.ObserveError) as exc:
                screen.post_message(
                    LogLines(gen, [], done=True, error=getattr(exc, "message", None) or str(exc))
                )
                return
            screen._log_stream = stream
            batch: list[str] = []
            last = time.monotonic()
            try:
                for line in stream:
                    if screen._gen.get("logs") != gen:
                        break
                    batch.append(visible(line))
                    if len(batch) >= 200 or time.monotonic() - last > 0.2:
                        screen.post_message(LogLines(gen, batch))
                        batch, last = [], time.monotonic()
            except ClusterError as exc:
                screen.post_message(LogLines(gen, batch, done=True, error=exc.message))
                return
            screen.post_message(LogLines(gen, batch, done=True))

        self.console.run_worker(
            job, thread=True, group="logs", exit_on_error=False, description="reading logs"
        )

    def stop_logs(self) -> None:
        self._gen["logs"] = self.console.next_generation()
        stream, self._log_stream = self._log_stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - best effort
                pass

    def on_log_lines(self, message: LogLines) -> None:
        if self._gen.get("logs") != message.generation or not self.built("logs"):
            return
        log = self.query_one("#log", Log)
        if message.lines:
            log.write_lines(message.lines)
            self.log_lines += len(message.lines)
        if message.error:
            self.log_error = message.error
        state = "ended" if message.done else ("following" if self.log_follow and self.console.live else "")
        self._render_log_target(state)

    def _render_log_target(self, state: str) -> None:
        tail = TAILS[self.log_tail_index]
        if self.log_error:
            self.query_one("#log-target", Static).update(
                safe_text(
                    f"pod {self.log_pod} · container {self.log_container or '?'}: no log: {self.log_error}"
                )
            )
            return
        parts = [
            f"pod {self.log_pod}",
            f"container {self.log_container or '?'}",
            f"tail {tail if tail else 'all'}",
            f"{self.log_lines} lines",
        ]
        if state:
            parts.append(state)
        parts.append("f follow · t tail · [ ] pod · } container")
        self.query_one("#log-target", Static).update(safe_text(" · ".join(parts)))

    def on_unmount(self) -> None:
        self.stop_logs()

    # ------------------------------------------------------------------ other actions

    def action_changes(self) -> None:
        self.console.open_changes(self.app_name)

    def target_app(self) -> str | None:
        return self.app_name

    def prefill(self, action: str) -> dict[str, Any]:
        """Restart: the workload selected in the tree (or its owner of a pod's ReplicaSet)."""
        if action != "restart":
            return {}
        from console.engine import resource_actions as ra

        n = self.selected_node()
        if n is not None and ra.actions_for(n.group, n.kind):
            return {"target": ra.ResourceRef(n.group, n.kind, n.namespace, n.name)}
        return {}

    def action_runbook(self) -> None:
        self.console.open_runbook(None, self.app_name)

    def action_refresh_app(self) -> None:
        self.console.run_refresh([self.app_name])
        self.load_diff()

    def action_copy(self) -> None:
        if self.current_tab() == "diff" and self.diffs:
            self.app.copy_to_clipboard(diffview.plain(self.diffs[self.diff_index].lines))
            self.console.set_notice("copied the diff")
            return
        n = self.selected_node()
        text = n.name if n is not None else self.app_name
        self.app.copy_to_clipboard(text)
        self.console.set_notice(f"copied {text}")

    def pager_text(self) -> str:
        if self.current_tab() == "logs" and self.built("logs"):
            return "\n".join(self.query_one("#log", Log).lines) + "\n"
        out = []
        for d in self.diffs:
            out.append(f"===== {d.title} ({d.reason}) =====\n")
            out += [f"# ignored: {x}\n" for x in d.ignored]
            out.append(diffview.plain(d.lines))
        return "".join(out) or "no differences\n"

    def action_pager(self) -> None:
        """Hand the diff (or the log) to delta / $PAGER; the console resumes when it exits."""
        text = self.pager_text()
        if shutil.which("delta") and self.current_tab() != "logs":
            argv = ["delta", "--paging=always"]
        else:
            argv = shlex.split(os.environ.get("PAGER") or "less -R")
        if not argv or shutil.which(argv[0]) is None:
            self.console.set_notice(
                f"no pager found ({visible(' '.join(argv)) or '$PAGER'}); set PAGER", error=True
            )
            return
        try:
            with self.app.suspend():
                subprocess.run(argv, input=text, text=True, check=False)  # noqa: S603 - argv, no shell
        except Exception as exc:  # noqa: BLE001 - e.g. headless: cannot suspend
            self.console.set_notice(f"cannot open the pager here: {exc}", error=True)

    def status_extra(self) -> str:
        bits = []
        for what, text in self.errors.items():
            bits.append(f"{what}: {text}")
        return " · ".join(bits)


class ToneStatic(Static):
    """A Static whose owner renders toned Text (styles from the screen's tree, which carries the
    theme's tone component classes: one set per screen, not one per widget)."""


class ResourceTree(LiveTree):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "toggle_node",
            "Fold",
            show=False,
            id="tree.toggle",
            tooltip="Expand or collapse this resource",
        ),
        Binding(
            "space",
            "toggle_node",
            "Fold",
            show=False,
            id="tree.toggle-space",
            tooltip="Expand or collapse this resource",
        ),
        Binding(
            "shift+left", "cursor_parent", "Parent", show=False, id="tree.parent", tooltip="Go to the owner"
        ),
        Binding("up,k", "cursor_up", "Up", show=False, id="tree.up", tooltip="Previous resource"),
        Binding("down,j", "cursor_down", "Down", show=False, id="tree.down", tooltip="Next resource"),
    ]


class DiffBody(ToneStatic):
    def show(self, d: diffview.ResourceDiffView, styles: dict[str, Any]) -> None:
        out = Text()

        def put(text: str, tone: str = "") -> None:
            append_safe(out, text, styles.get(tone) or "")

        put(f"{d.title}: {d.reason}\n", "group")
        for a in d.attributions:
            word = "git" if not a.drift else "drift"
            put(f"# {word}: ", "note")
            put(
                f"{a.path} — {a.manager} ({a.operation or '?'}{' on /' + a.subresource if a.subresource else ''}) {a.time or ''}\n",
                "note",
            )
        if d.ignored:
            put("ignored: " + "; ".join(d.ignored) + "\n", "muted")
        tone = {"header": "muted", "hunk": "hunk", "add": "add", "remove": "remove", "context": ""}
        for ln in d.lines:
            put(ln.text, tone[ln.kind])
            if ln.note:
                put(f"   {ln.note}", "note")
            put("\n")
        out.rstrip()
        self.update(out)

"""The review page: Tornado on 127.0.0.1, grading one written question across the class.

``/`` lists the questions with their progress; ``/q/<grade id>`` shows every
answer to one question, the rubric beside them, and takes rubric items,
points and comments by keyboard or click (``static/review.js``). Each change is
posted as JSON to ``/api/review`` and written at once into ``DIR`` as one set
(:meth:`autograder.review.carry.Class.publish`). Every asset is served from
``static/``; the Content-Security-Policy allows nothing from elsewhere and no
inline script, so an answer's text can never run. Requests must carry
Tornado's XSRF token and name this server's own host (no other site, no DNS
rebinding, can post grades).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

import tornado.web

from .carry import Class, ReviewError
from .render import render
from .store import Review, answer_sha256

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
MAX_COMMENT = 10_000


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str, *, script: bool = False) -> str:
    js = '<script src="/static/review.js" defer></script>' if script else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{_e(title)}</title><link rel="stylesheet" href="/static/review.css">{js}</head>'
        f"<body>{body}</body></html>"
    )


class Base(tornado.web.RequestHandler):
    @property
    def klass(self) -> Class:
        return self.application.settings["klass"]

    def prepare(self) -> None:
        host = self.request.host.rsplit(":", 1)[0] if self.request.host else ""
        if host not in ("127.0.0.1", "localhost"):
            raise tornado.web.HTTPError(403)

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")


class Index(Base):
    def get(self) -> None:
        k = self.klass
        rows = []
        for q in k.questions.questions:
            done, total = k.progress(q.grade_id)
            rows.append(
                f'<li><a href="/q/{_e(q.grade_id)}">{_e(q.title)}</a> '
                f"<span>({q.max_points:g} points): graded {done} of {total}</span></li>"
            )
        body = (
            f"<header><h1>Written answers of {_e(k.assignment)}</h1><p>{_e(k.out)}</p></header>"
            f'<main><h2>Questions</h2><ul class="questions">{"".join(rows)}</ul>'
            "<p>Open a question to grade every answer to it; <kbd>?</kbd> there lists the keys.</p></main>"
        )
        self.write(_page(f"Review: {k.assignment}", body))


def _card(k: Class, q: Any, result: Any, answer: str, index: int) -> str:
    sid = result.student_id
    review = k.reviews.current(sid, q.grade_id, answer)
    stale = review is None and k.reviews.get(sid, q.grade_id) is not None
    name = result.name or " ".join(p for p in (result.first_name, result.last_name) if p)
    who = f"{name} ({sid})" if name and name != sid else sid
    given = set(review.items) if review else set()
    boxes = []
    for n, item in enumerate(q.items, 1):
        ident = f"i-{index}-{item.key}"
        checked = " checked" if item.key in given else ""
        boxes.append(
            f'<li><input type="checkbox" id="{ident}" data-item="{_e(item.key)}"{checked}>'
            f'<label for="{ident}"><kbd>{n}</kbd> {_e(item.description)} ({item.points:+g})</label></li>'
        )
    state = "graded" if review else ("answer changed since its review" if stale else "not graded")
    points = f"{review.points:g}" if review else "–"
    comment = _e(review.comment) if review else ""
    return (
        f'<article class="answer{" graded" if review else ""}" tabindex="-1" id="a-{index}" data-student="{_e(sid)}" '
        f'data-sha="{answer_sha256(answer)}" aria-labelledby="h-{index}">'
        f'<h3 id="h-{index}"><input type="checkbox" class="select" aria-label="select {_e(who)}"> {_e(who)} '
        f'<span class="state">{_e(state)}</span> <span class="points">{points}</span> / {q.max_points:g}</h3>'
        f'<div class="text">{render(answer) if answer.strip() else "<p><em>(no answer)</em></p>"}</div>'
        f'<ul class="items">{"".join(boxes)}</ul>'
        f'<label class="comment" for="c-{index}">Comment to {_e(who)}</label>'
        f'<textarea id="c-{index}" rows="2">{comment}</textarea>'
        "</article>"
    )


class QuestionPage(Base):
    def get(self, grade_id: str) -> None:
        k = self.klass
        q = k.question(grade_id)
        if q is None:
            raise tornado.web.HTTPError(404)
        _ = self.xsrf_token  # sets the cookie the script sends back
        done, total = k.progress(grade_id)
        ids = k.questions.ids
        at = ids.index(grade_id)
        nav = []
        if at > 0:
            nav.append(f'<a href="/q/{_e(ids[at - 1])}">previous question</a>')
        nav.append('<a href="/">all questions</a>')
        if at + 1 < len(ids):
            nav.append(f'<a href="/q/{_e(ids[at + 1])}">next question</a>')
        rubric = "".join(
            f"<li><kbd>{n}</kbd> <strong>{i.points:+g}</strong> {_e(i.description)}"
            f'<br><span class="feedback">Student reads: {_e(i.feedback)}</span></li>'
            for n, i in enumerate(q.items, 1)
        )
        cards = "".join(_card(k, q, r, a, n) for n, (r, a) in enumerate(k.answers(grade_id)))
        keys = (
            "<dl><dt><kbd>j</kbd> / <kbd>↓</kbd>, <kbd>k</kbd> / <kbd>↑</kbd></dt><dd>next, previous answer</dd>"
            "<dt><kbd>n</kbd></dt><dd>next answer not graded</dd>"
            "<dt><kbd>1</kbd>…<kbd>9</kbd></dt><dd>give or take back a rubric item (to the selection, if any)</dd>"
            "<dt><kbd>0</kbd></dt><dd>graded with no item (0 points)</dd>"
            "<dt><kbd>f</kbd></dt><dd>every item (full points)</dd>"
            "<dt><kbd>x</kbd></dt><dd>select or unselect the answer; <kbd>a</kbd> select every answer not graded; "
            "<kbd>Esc</kbd> clear the selection</dd>"
            "<dt><kbd>c</kbd></dt><dd>write a comment (<kbd>Ctrl</kbd>+<kbd>Enter</kbd> or <kbd>Esc</kbd> saves)</dd>"
            "<dt><kbd>u</kbd></dt><dd>undo the grade (not graded again)</dd></dl>"
        )
        body = (
            f'<header><nav aria-label="questions">{" · ".join(nav)}</nav>'
            f"<h1>{_e(q.title)} <small>({q.max_points:g} points, {_e(k.assignment)})</small></h1>"
            f'<p id="progress" role="status" aria-live="polite" data-done="{done}" data-total="{total}">'
            f"graded {done} of {total}</p></header>"
            f'<main data-question="{_e(grade_id)}">'
            f'<aside aria-label="question and rubric"><details><summary>The question</summary>'
            f'<div class="prompt">{render(q.prompt)}</div></details>'
            f'<h2>Rubric</h2><ol class="rubric">{rubric}</ol>'
            f"<details><summary>Keys</summary>{keys}</details>"
            f'<p id="message" role="alert"></p></aside>'
            f'<section aria-label="answers"><h2>{total} answers</h2>{cards}</section></main>'
        )
        self.write(_page(f"{q.title}: review {k.assignment}", body, script=True))


class Api(Base):
    def post(self) -> None:
        k = self.klass
        try:
            data = json.loads(self.request.body)
            q = k.question(str(data["question"]))
            changes = data["changes"]
            if q is None or not isinstance(changes, list) or not changes:
                raise ValueError("unknown question or no changes")
        except (ValueError, KeyError, TypeError) as exc:
            raise tornado.web.HTTPError(400, reason=f"not a review request ({exc})") from exc
        answers = {r.student_id: a for r, a in k.answers(q.grade_id)}
        out = []
        for change in changes:
            sid = str(change.get("student", "")) if isinstance(change, dict) else ""
            if sid not in answers or change.get("sha") != answer_sha256(answers[sid]):
                raise tornado.web.HTTPError(409, reason=f"{sid}'s answer changed: reload the page")
            if change.get("clear"):
                k.reviews.drop(sid, q.grade_id)
                out.append({"student": sid, "graded": False})
                continue
            items = [i for i in change.get("items", []) if isinstance(i, str) and q.item(i) is not None]
            comment = str(change.get("comment", ""))[:MAX_COMMENT]
            review = Review(q.points_of(items), items, comment, answer_sha256(answers[sid]))
            k.reviews.put(sid, q.grade_id, review)
            out.append({"student": sid, "graded": True, "points": review.points, "items": items})
        try:
            k.publish()
        except ReviewError as exc:
            raise tornado.web.HTTPError(409, reason=str(exc).replace("\n", " ")[:300]) from exc
        done, total = k.progress(q.grade_id)
        self.write({"reviews": out, "done": done, "total": total})

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"error": self._reason})


def make_app(klass: Class) -> tornado.web.Application:
    """The review application of ``klass`` (a graded ``DIR`` opened for review)."""
    return tornado.web.Application(
        [(r"/", Index), (r"/q/([A-Za-z0-9_.-]+)", QuestionPage), (r"/api/review", Api)],
        klass=klass,
        static_path=str(STATIC),
        xsrf_cookies=True,
        compress_response=False,
    )


def serve(klass: Class, *, port: int = 0, ready: Any = None) -> None:
    """Serve the review of ``klass`` on 127.0.0.1:``port`` (0: a free port) until interrupted.

    ``ready`` is called with the page's address once the server listens.
    """
    import asyncio

    async def main() -> None:
        app = make_app(klass)
        server = app.listen(port, address="127.0.0.1")
        bound = next(iter(server._sockets.values())).getsockname()[1]
        if ready is not None:
            ready(f"http://127.0.0.1:{bound}/")
        await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass

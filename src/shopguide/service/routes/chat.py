"""POST /v1/chat: one turn of the conversational shopping guide.

The guide's parts (knowledge graph, FAQ index, NLU, retriever) are built once per served model, off the
request deadline, and cached on the app; a hot-swapped model gets a fresh guide at its first chat turn
(or call :func:`prepare` at start-up). A turn runs under a deadline; a turn that runs over or fails answers
a polite fallback (``degraded: true``), never a 5xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request

from shopguide.bandit.runtime import LearningLoop
from shopguide.config import Settings
from shopguide.guide import answers
from shopguide.guide.dialogue import ChatReply, DialogueManager
from shopguide.guide.faq import FAQ
from shopguide.guide.kg import KnowledgeGraph
from shopguide.guide.llm import LLMConfig, LLMPhraser
from shopguide.guide.retrieval import Retriever
from shopguide.guide.types import Intent, Understanding
from shopguide.security.auth import Principal, require
from shopguide.service import metrics
from shopguide.service.deps import ServingStateDep
from shopguide.service.learning import GuideChooser
from shopguide.service.models import Served
from shopguide.service.resilience import DeadlineExceeded, run_with_deadline
from shopguide.service.schemas import ChatRequest, ChatResponse, DecisionOut, Understood
from shopguide.service.state import ServiceState
from shopguide.text.tokenize import has_cjk

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["chat"], dependencies=[require("read")])

#: A chat turn may take this many recommendation deadlines (it searches, re-ranks and writes the session).
DEADLINE_FACTOR = 3.0
MIN_DEADLINE_S = 0.25
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class Guide:
    """The dialogue manager built for one served model."""

    served: Served
    manager: DialogueManager


def default_nlu(served: Served, tagger: Any = None, cache_dir: Any = None, corpora: Any = None) -> Any:
    """The project's NLU with the served catalog's lexicon and words (the intent model is trained once per
    process, or loaded from ``cache_dir`` when an earlier process trained it on the same data)."""
    from shopguide.guide.nlu import NLU, Lexicon, load_default

    lexicon = Lexicon.from_catalog(m for m in served.model.dataset_.item_meta if m is not None)
    words = served.search.vocabulary if served.search is not None else ()
    return NLU(lexicon, load_default(cache_dir, corpora), tagger=tagger, catalog_words=words)


def product_tagger(settings: Any) -> Any:
    """The trained Chinese product tagger when a cached model exists under the home (or training is on): the
    neural tagger (better on text unlike its training titles; served with numpy), else the CRF product tagger
    (e.g. when torch is missing to train the neural one); None otherwise — the guide then relies on its
    catalog lexicon."""
    from shopguide.errors import MissingDependencyError
    from shopguide.guide.ner import load_default, load_neural

    cache_dir, train = settings.home / "cache" / "ner", settings.train_product_tagger
    try:
        try:
            tagger = load_neural(cache_dir=cache_dir, train_if_missing=train)
        except MissingDependencyError as exc:
            log.warning("no neural product tagger (%s); using the CRF product tagger", exc)
            tagger = None
        return tagger if tagger is not None else load_default(cache_dir=cache_dir, train_if_missing=train)
    except Exception:  # the tagger is an optional refinement: never a reason not to serve
        log.exception("could not load the product tagger; continuing without it")
        return None


def build_guide(state: ServiceState, served: Served, nlu: Any = None, learning: LearningLoop | None = None) -> Guide:
    """Knowledge graph, FAQ, retriever and NLU for ``served`` (the FAQ is optional: a broken file is logged);
    with a ``learning`` loop, the guide's ask-or-show move on vague requests is its decision point."""
    kg = KnowledgeGraph.build(served.model.dataset_, served.pairing)
    tokenizer = served.search.tokenizer if served.search is not None else None
    try:
        faq: FAQ | None = FAQ.load(tokenizer=tokenizer)
    except Exception:
        log.exception("could not load the FAQ; FAQ questions go to a human")
        faq = None
    retriever = Retriever(kg, served.search, served.model, state.store, deleted=state.deleted)
    nlu = (
        nlu
        if nlu is not None
        else default_nlu(
            served,
            product_tagger(state.settings),
            cache_dir=state.settings.home / "cache" / "nlu",
            corpora=state.settings.nlu_corpora,
        )
    )
    if hasattr(nlu, "warm"):
        nlu.warm()
    chooser = GuideChooser(learning, state.store, served) if learning is not None else None
    manager = DialogueManager(
        kg, retriever, state.store, nlu, faq, phraser=phraser_from(state.settings), chooser=chooser
    )
    log.info("chat guide built", extra={"version": served.version})
    return Guide(served, manager)


def phraser_from(settings: Settings) -> LLMPhraser | None:
    """The optional LLM phraser, when settings name an endpoint (``SHOPGUIDE_LLM_BASE_URL`` and ``_MODEL``)."""
    if not settings.llm_base_url or not settings.llm_model:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key is not None else None
    return LLMPhraser(LLMConfig(settings.llm_base_url, settings.llm_model, key, settings.llm_timeout_ms / 1000))


def guide_for(app_state: Any, state: ServiceState) -> Guide | None:
    """The cached guide of the served model, built on first use (one build at a time)."""
    served = state.models.served
    if served is None:
        return None
    guide: Guide | None = getattr(app_state, "chat_guide", None)
    if guide is not None and guide.served is served:
        return guide
    with _BUILD_LOCK:
        guide = getattr(app_state, "chat_guide", None)
        if guide is None or guide.served is not served:
            guide = build_guide(
                state, served, getattr(app_state, "chat_nlu", None), getattr(app_state, "learning", None)
            )
            app_state.chat_guide = guide
    return guide


def prepare(app: Any) -> None:
    """Build the guide now (call at start-up so the first chat turn is fast)."""
    guide_for(app.state, app.state.shopguide)


def _fallback(req: ChatRequest, session_id: str, version: str | None) -> ChatResponse:
    lang = req.lang or ("zh" if has_cjk(req.message) else "en")
    return ChatResponse(
        session_id=session_id, lang=lang, reply=answers.say("busy", lang), cards=[], items=[],
        understood=Understood(intent=Intent.CHITCHAT.value, confidence=0.0, lang=lang),
        action="fallback", handoff=False, model_version=version, degraded=True,
    )  # fmt: skip


def session_key(secret: bytes, principal: Principal, session_id: str) -> str:
    """Where the session is stored: a keyed hash of its owner (the API key, or the storefront's browser) and
    the id the client uses. Another caller sending the same id reaches a different, new session, so a
    session id alone never reveals anyone's conversation. (A shop's back end serving many shoppers with
    one key owns all their sessions: it keeps its shoppers' session ids apart, as it does today.)"""
    owner = f"{principal.owner}|{session_id}".encode()
    return "cs_" + hmac.new(secret, owner, hashlib.sha256).hexdigest()[:40]


def _response(reply: ChatReply, version: str, session_id: str) -> ChatResponse:
    u: Understanding = reply.understood
    return ChatResponse(
        session_id=session_id, lang=reply.lang, reply=reply.reply, cards=reply.cards, items=reply.cards,
        suggestions=reply.suggestions, action=reply.action, handoff=reply.handoff, slots=reply.slots,
        negated=reply.negated, model_version=version,
        understood=Understood(intent=u.intent.value, confidence=round(u.confidence, 4), slots=u.slots,
                              negated=u.negated, lang=u.lang),
    )  # fmt: skip


@router.post("/chat", response_model=ChatResponse)
async def chat(
    req: ChatRequest, request: Request, state: ServingStateDep, principal: Annotated[Principal, require("read")]
) -> ChatResponse:
    """Answer one message: a reply, product cards, follow-up suggestions and what was understood.

    Slots carry over between turns of a ``session_id`` (kept in the store, so they survive a restart).
    ``handoff`` is true when the shopper should talk to a person (asked for one, order status, or the
    guide was not confident). Accepts ``session``/``user`` for ``session_id``/``user_id``. A session belongs
    to its caller: the same id sent with another key or from another browser starts a new conversation. New
    ids carry 128 random bits.
    """
    state.models.refresh()
    session_id = req.session_id or f"chat-{secrets.token_hex(16)}"
    stored_as = session_key(request.app.state.auth.secret, principal, session_id)
    served = state.models.served
    version = served.version if served else None
    guide: Guide | None = getattr(request.app.state, "chat_guide", None)
    try:
        if guide is None or guide.served is not served:  # build off the event loop, outside the deadline
            guide = await asyncio.to_thread(guide_for, request.app.state, state)
    except Exception:
        log.exception("could not build the chat guide")
        metrics.DEGRADED.labels("chat_error").inc()
        return _fallback(req, session_id, version)
    if guide is None:
        return _fallback(req, session_id, version)
    deadline = max(state.settings.deadline_ms / 1000 * DEADLINE_FACTOR, MIN_DEADLINE_S)
    if guide.manager.phraser is not None:  # the LLM has its own timeout; the rule reply is the fallback
        deadline += guide.manager.phraser.config.timeout_s
    try:
        reply = await run_with_deadline(
            lambda: guide.manager.turn(stored_as, req.user_id, req.message, req.lang, client_id=session_id), deadline
        )
    except DeadlineExceeded:
        metrics.DEGRADED.labels("chat_deadline").inc()
        _settle(guide, session_id, req.user_id, served=False)
        return _fallback(req, session_id, guide.served.version)
    except Exception:  # a failing model or store must not become a 5xx
        log.exception("chat turn failed", extra={"session": session_id})
        metrics.DEGRADED.labels("chat_error").inc()
        _settle(guide, session_id, req.user_id, served=False)
        return _fallback(req, session_id, guide.served.version)
    response = _response(reply, guide.served.version, session_id)
    choice = _settle(guide, session_id, req.user_id, served=True)
    if choice is not None:
        response.decision = DecisionOut(**choice.to_json())
    return response


def _settle(guide: Guide, session_id: str, user_id: str | None, *, served: bool) -> Any:
    """Log (served) or drop the decision the guide's learning loop made during this turn, if it made one."""
    chooser = guide.manager.chooser
    if not isinstance(chooser, GuideChooser):
        return None
    return chooser.settle(session_id, served=served, user_id=user_id)

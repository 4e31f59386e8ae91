"""The guide's fixed sentences and follow-up suggestions, in Chinese and English.

Sentences with a ``{placeholder}`` are filled by :func:`say`; everything they state is either a policy of the
shop (the FAQ file holds those), a catalog fact passed in, or the guide saying what it can and cannot do.
"""

from __future__ import annotations

from typing import Any

#: Fixed sentences, (zh, en).
TEXT: dict[str, tuple[str, str]] = {
    "greeting": ("你好！我是 AI 导购，想买点什么？告诉我品类、预算或用途，我来帮你挑。",
                 "Hi! I'm your shopping guide. Tell me what you're looking for, your budget or the occasion, and I'll help you choose."),
    "goodbye": ("好的，有需要随时来找我，祝您购物愉快！", "Bye for now, and happy shopping! I'm here whenever you need me."),
    "thanks": ("不客气！还有什么需要随时问我。", "You're welcome! Ask me any time if you need anything else."),
    "chitchat": ("我是这家店的 AI 导购，最擅长帮你挑商品、比较和搭配。想看看什么？",
                 "I'm this store's shopping guide: finding, comparing and pairing products is what I do best. What would you like to see?"),
    "bot": ("我是这家店的 AI 导购，不是真人哦～挑商品、比价、搭配、售后问题都可以问我；需要真人的话说“转人工”就行（人工客服每天 9:00-22:00 在线）。",
            "I'm the shop's AI shopping guide, not a person. I can help you find, compare and pair products or sort out an order problem; say 'talk to a person' if you'd like a colleague (online 9:00-22:00 every day)."),
    "acknowledge": ("好的～还想看看什么，或者有其他问题随时说。", "Okay! Tell me if you'd like to see something else or have another question."),
    "out_of_scope": ("这个我帮不上忙哦：我是店里的导购，只能帮您挑商品、解答订单、配送、售后和优惠的问题。想看看什么商品吗？",
                     "I'm afraid I can't help with that: I'm this shop's assistant, so I can help you find products and answer questions about orders, delivery, returns and discounts. Anything you'd like to look for?"),
    "no_more": ("符合{what}的就这几款了，都给您看过了。", "You've seen all our {what} now."),
    "order_change_shipped": ("已经发货的订单需要人工同事帮您拦截或改地址，我这就为您转接人工客服。",
                             "Once an order has shipped, a colleague has to intercept or redirect it, so I'm passing you to one now."),
    "out_of_scope_medical": ("健康和用药的问题我不能给建议，请问问医生或药师哦。商品本身的成分、配料和营养信息我可以帮您查，想看哪一款？",
                             "I can't give health or medical advice, so please ask a doctor or pharmacist about that. I can look up a product's ingredients or nutrition facts for you if that helps."),
    "clarify_intent": ("抱歉，我没太明白。您是想找商品，还是咨询订单、售后或优惠呢？",
                       "Sorry, I didn't quite get that. Are you looking for a product, or is it about an order, a return or a discount?"),
    "not_understood_topic": ("抱歉，没看懂“{word}”。我们还在看{topic}，可以告诉我颜色、预算、品牌或用途。",
                             "Sorry, I didn't understand “{word}”. We're still looking at {topic}: tell me a colour, a budget, a brand or what it's for."),
    "handoff": ("这个问题我可能答不好，已为您转接人工客服，请稍候。",
                "I'm not sure I can answer that well, so I'm passing you to a colleague from customer service. One moment, please."),
    "handoff_ticket": ("已为您转接人工客服，请稍候（工单号 {ticket}）。",
                       "I'm passing you to a colleague from customer service, one moment please (ticket {ticket})."),
    "handoff_failed": ("抱歉，我几次都没能帮上忙，已为您转接人工客服（工单号 {ticket}），请稍候。",
                       "Sorry I couldn't help with this. I've passed you to a colleague from customer service (ticket {ticket}); one moment, please."),
    "already_handed_off": ("已经为您转接人工客服了，同事马上就来，请稍候。您也可以继续跟我看商品。",
                           "You're already in the queue for a colleague, who will be with you shortly. Meanwhile I can keep helping you shop."),
    "after_sales_ask_order": ("非常抱歉给您带来不好的体验！麻烦发一下订单号，我马上登记给售后同事处理，补发或退款都可以安排。",
                              "I'm really sorry about that! Could you send me your order number? I'll log it for our after-sales team right away; we can resend or refund."),
    "after_sales_ticket": ("已为您登记售后（工单号 {ticket}，订单 {order}），售后同事会尽快联系您处理，破损、质量问题或发错的运费都由我们承担。",
                           "I've logged it for our after-sales team (ticket {ticket}, order {order}); a colleague will contact you shortly, and we cover the shipping for damaged, faulty or wrong items."),
    "after_sales_ticket_no_order": ("已为您登记售后（工单号 {ticket}），售后同事会尽快联系您核实订单，补发或退款都可以安排。",
                                    "I've logged it for our after-sales team (ticket {ticket}); a colleague will contact you shortly to find the order and resend or refund."),
    "after_sales_wait": ("您的售后工单（工单号 {ticket}）已经登记好了，售后同事会尽快联系您；人工客服每天 9:00-22:00 在线。",
                         "Your case is logged (ticket {ticket}) and a colleague from after-sales will contact you as soon as possible; our people are online 9:00-22:00 every day."),
    "return_postage_ours": ("这次是商品的问题，寄回的运费由我们承担，不用您出。", "Since the problem is on our side, we cover the return postage; you don't pay it."),
    "after_sales_angry_ask": ("非常抱歉让您这么生气，我马上为您转接人工客服优先处理（工单号 {ticket}）。方便的话发一下订单号，同事能更快帮您处理。",
                              "I'm so sorry this has upset you. I'm passing you to a colleague right away with priority (ticket {ticket}); if you send me your order number, they can sort it out faster."),
    "after_sales_angry": ("非常抱歉让您这么生气，我马上为您转接人工客服优先处理（工单号 {ticket}），请稍候。",
                          "I'm so sorry this has upset you. I'm passing you to a colleague right away with priority (ticket {ticket}); one moment, please."),
    "busy": ("抱歉，我这边有点忙，请稍后再试一次。", "Sorry, I'm a little busy right now. Please try again in a moment."),
    "ask_vague": ("想买哪一类商品呢？比如衬衫、运动鞋、耳机；有预算的话也告诉我。",
                  "What kind of product are you after, for example shirts, sneakers or earphones? Tell me your budget too, if you have one."),
    "ask_gift": ("想送给谁呢？预算大概多少？", "Who is the gift for, and roughly what is your budget?"),
    "ask_gift_recipient": ("想送给谁呢？", "Who is the gift for?"),
    "ask_gift_budget": ("预算大概多少？", "Roughly what is your budget?"),
    "ask_which": ("您想问的是哪一款呢？可以先告诉我想找什么商品。",
                  "Which product do you mean? Tell me what you're looking for first and I'll show you some."),
    "need_two": ("需要至少两款商品才能比较，先让我帮你找找看吧。", "I need at least two products to compare. Let me find some first."),
    "cheapest": ("已经是最实惠的几款了。", "These are already the most affordable ones."),
    "cheaper_relaxed": ("同样的款式里没有更便宜的了，这些更便宜，颜色或款式不同：", "Nothing cheaper in the same colour or style; these are cheaper, in others:"),
    "dearer_relaxed": ("同样的款式里没有更高档的了，这些价位更高，颜色或款式不同：", "Nothing pricier in the same colour or style; these are, in others:"),
    "dearest": ("已经是价位最高的几款了。", "These are already the top of the range."),
    "not_carried": ("抱歉，我们店暂时没有“{what}”。", "Sorry, we don't carry ‘{what}’ at the moment."),
    "not_carried_brand": ("抱歉，我们店没有{brand}的商品。", "Sorry, we don't sell {brand}."),
    "not_carried_brand_type": ("抱歉，我们店没有{brand}的{what}；店里的{what}是这些品牌的：{brands}。",
                               "Sorry, we don't carry {brand} {what}; ours are by {brands}."),
    "alternatives": ("相近的可以看看这些（不是“{what}”，供参考）：", "Related things we do have (not ‘{what}’, just in case):"),
    "alternatives_brand": ("可以看看这些：", "Here are some of ours:"),
    "not_carried_suggest": ("可以告诉我其他想买的，比如衬衫、运动鞋、耳机。", "Tell me what else you need, for example shirts, sneakers or earphones."),
    "noted_rejection": ("好的，不看{what}了。", "Got it, no {what}."),
    "noted_rejection_ask": ("好的，不看{what}了。那想看看什么呢？", "Got it, no {what}. What would you like to see instead?"),
    "listing_silent": ("商品资料里没有写{title}的{prop}，我不能乱说；需要的话可以转人工帮您确认。",
                       "The listing for {title} doesn't say anything about its {prop}, so I can't tell you for sure; a colleague can check if you like."),
    "listing_silent_on": ("商品资料里没有写到{title}“{prop}”这一点，我不能乱说；需要的话可以转人工帮您确认。",
                          "The listing for {title} doesn't cover ‘{prop}’, so I can't tell you for sure; a colleague can check if you like."),
    "listing_tagged": ("{title}的商品标签里标注了“{tag}”（{prop}）；更具体的说明资料里没有写。",
                       "{title} is tagged ‘{tag}’ ({prop}); the listing gives no more detail than that."),
    "listing_says": ("{title}的{prop}：商品资料里写着“{sentence}”。", "{title}, {prop}: the listing says ‘{sentence}’."),
    "accept": ("好的，就选{title}（{price}）！点商品卡片就可以加入购物车下单。需要我再帮您搭配点什么吗？",
               "Great choice: {title} ({price})! Tap the card to add it to your cart. Shall I find something that goes with it?"),
    "accept_many": ("好的，这几件都给您记下了：{items}。点商品卡片就可以分别加入购物车，一起结算。",
                    "Great: {items}. Tap each card to add it to your cart and check out together."),
    "sold_out": ("{what}暂时缺货，补货后就能买到。", "{what} is sold out at the moment; it will be back in stock."),
    "no_results": ("抱歉，目前没有找到符合{what}的商品。可以放宽一些条件试试。",
                   "Sorry, I couldn't find {what} right now. Try loosening a condition or two."),
}  # fmt: skip
SUGGESTIONS: dict[str, tuple[list[str], list[str]]] = {
    "results": (["第一个怎么搭配？", "比较一下前两个", "有便宜点的吗？"],
                ["What goes with the first one?", "Compare the first two", "Anything cheaper?"]),
    "clarify": (["衬衫", "300元以内的运动鞋", "送女朋友的礼物"], ["Shirts", "Sneakers under 300", "A gift for my girlfriend"]),
    "gift": (["预算500元以内", "送给爸爸"], ["Under 500", "It's for my dad"]),
    "compare": (["第一个怎么搭配？", "第二个是什么材质？"], ["What goes with the first one?", "What is the second one made of?"]),
    "attribute": (["怎么搭配？", "有类似的吗？"], ["What goes with it?", "Anything similar?"]),
    "bundle": (["比较一下前两个", "有便宜点的吗？"], ["Compare the first two", "Anything cheaper?"]),
    "similar": (["比较一下前两个", "第一个怎么搭配？"], ["Compare the first two", "What goes with the first one?"]),
    "faq": (["怎么退货？", "多久发货？", "转人工"], ["How do returns work?", "When will my order ship?", "Talk to a person"]),
    "greeting": (["我想买一件衬衫", "送女朋友什么礼物好？", "多久发货？"],
                 ["I'm looking for a shirt", "Gift ideas for my girlfriend", "When will my order ship?"]),
    "not_carried": (["衬衫", "耳机", "送女朋友的礼物"], ["Shirts", "Earphones", "A gift for my girlfriend"]),
    "out_of_scope": (["我想买一件衬衫", "多久发货？"], ["I'm looking for a shirt", "When will my order ship?"]),
    "accept": (["怎么搭配？", "多久发货？"], ["What goes with it?", "When will it ship?"]),
    "after_sales": (["转人工"], ["Talk to a person"]),
    "handoff": ([], []),
}  # fmt: skip


def pick(lang: str, zh: str, en: str) -> str:
    """``en`` for English, ``zh`` otherwise."""
    return en if lang == "en" else zh


def say(key: str, lang: str, **kw: Any) -> str:
    """The fixed sentence ``key`` in ``lang``, its placeholders filled."""
    zh, en = TEXT[key]
    return pick(lang, zh, en).format(**kw)


def suggestions(action: str, lang: str) -> list[str]:
    """Follow-ups the shopper may tap after ``action``."""
    zh, en = SUGGESTIONS.get(action, ([], []))
    return list(en if lang == "en" else zh)

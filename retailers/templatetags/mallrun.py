from django import template

register = template.Library()


@register.filter
def money(cents) -> str:
    """Integer cents as dollars: 1299 -> $12.99."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


@register.filter
def mall_time(moment, mall) -> str:
    """A UTC datetime shown in the mall's own time zone, e.g. '7:40 pm'."""
    if not moment or mall is None:
        return ""
    return mall.local(moment).strftime("%-I:%M %p").lower()


@register.filter
def mall_datetime(moment, mall) -> str:
    if not moment or mall is None:
        return ""
    return mall.local(moment).strftime("%a %b %-d, %-I:%M %p %Z")

"""The worklist's rows are built in Python (patients.views._worklist_rows_html) for speed:
they must be the HTML the row template rendered, for every kind of row and any text in it.
The template below is that row template as it was (whitespace runs compared as one space)."""

import re

from django.template import Context, Template
from hypothesis import given, settings
from hypothesis import strategies as st

from patients.views import _worklist_rows_html

ROW_TEMPLATE = """{% load clinic %}{% with csrf_token=csrf_token|stringformat:"s" %}
  {% for d in draws %}
    <tr id="draw-{{ d.pk }}" class="{% if section == 'overdue' %}row-overdue{% elif d.flagged %}row-flagged{% endif %}{% if found_draw_id == d.pk %} row-found{% endif %}">
      <td><a href="{{ patient_url }}{{ d.patient_id }}/">{{ d.name }}</a>{% if d.is_redraw %} <span class="badge badge-redraw">redraw</span>{% endif %}</td>
      <td class="nowrap">{{ d.born_label }}</td>
      <td class="mono">{{ d.mrn }}</td>
      <td>{{ d.oncologist }}</td>
      {% if section == "awaiting" %}
        <td class="nowrap">{{ d.collected_label }}</td>
        <td class="mono">{{ d.accession }}</td>
        <td>{{ d.waiting }}{% if d.flagged %} <span class="flag">⚑ over {{ flag_days }} days: chase the lab</span>{% endif %}</td>
        {% if can_act %}<td class="no-print">{% if d.flagged %}
          <details class="row-actions"><summary>Sample lost?</summary>
            <form method="post" action="{{ draw_url }}{{ d.pk }}/lost/">
              {% csrf_token %}<input type="hidden" name="next" value="{{ here }}">
              <label for="lost-{{ d.pk }}">Note (optional)</label><input id="lost-{{ d.pk }}" name="comment" maxlength="2000">
              <button type="submit" class="danger">Sample lost: plan a redraw for {{ d.name }}</button>
            </form>
          </details>{% else %}<span class="muted">—</span>{% endif %}</td>{% endif %}
      {% else %}
        <td class="nowrap">{{ d.due_label }}</td>
        <td class="muted nowrap">{{ d.window_label }}</td>
        <td class="nowrap">{% if section == "overdue" %}<strong class="overdue nowrap">{{ d.status }}</strong>{% else %}{{ d.status }}{% endif %}
            {% if d.early %}<br><span class="warn">window opens {{ d.opens_label }}</span>{% endif %}</td>
        {% if can_act %}
        <td class="no-print actions-cell">
          <form method="post" action="{% url 'worklist_scan' %}" class="inline">
            {% csrf_token %}<input type="hidden" name="next" value="{{ here }}"><input type="hidden" name="draw" value="{{ d.pk }}">
            <button type="submit" class="collect" aria-label="Collect for {{ d.name }}">{% if d.early %}Collect early…{% else %}Collect…{% endif %}</button>
          </form>
          <button type="button" class="secondary more" data-draw="{{ d.pk }}" data-patient="{{ d.name }} ({{ d.mrn }})" data-due="{{ d.due_day }}" data-window="{{ d.window_label }}" aria-label="More actions for {{ d.name }}">More…</button>
        </td>
        {% endif %}
      {% endif %}
    </tr>
  {% empty %}
    <tr><td colspan="9" class="empty">Nothing here{% if search_token %} for this filter{% endif %}.</td></tr>
  {% endfor %}
  {% endwith %}
"""

_text = st.text(alphabet=st.sampled_from("aZ09 <>&\"'-,.\u00e9\u2013"), max_size=12)
_row = st.fixed_dictionaries(
    {
        "pk": st.integers(1, 10**6).map(str),
        "patient_id": st.integers(1, 10**6).map(str),
        "name": _text,
        "mrn": _text,
        "born_label": _text,
        "oncologist": _text,
        "is_redraw": st.booleans(),
        "due_label": _text,
        "due_day": _text,
        "window_label": _text,
        "opens_label": _text,
        "status": _text,
        "early": st.booleans(),
        "collected_label": _text,
        "accession": _text,
        "waiting": _text,
        "flagged": st.booleans(),
    }
)


def _squash(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(_row, min_size=1, max_size=4),
    section=st.sampled_from(["overdue", "due", "upcoming", "awaiting", "redraw"]),
    can_act=st.booleans(),
    found=st.booleans(),
    here=_text.map(lambda t: "/worklist/?section=due&page=2" + t),
    flag_days=st.integers(1, 30),
)
def test_rows_are_what_the_row_template_rendered(rows, section, can_act, found, here, flag_days):
    found_draw_id = rows[0]["pk"] if found else ""
    urls = {"patient_url": "/patients/", "draw_url": "/draws/"}
    context = {
        "draws": rows,
        "section": section,
        "can_act": can_act,
        "found_draw_id": found_draw_id,
        "here": here,
        "csrf_token": "tok<&>en",
        "flag_days": flag_days,
        **urls,
    }
    expected = Template(ROW_TEMPLATE).render(Context(context))
    built = _worklist_rows_html(
        rows,
        section=section,
        can_act=can_act,
        found_draw_id=found_draw_id,
        here=here,
        csrf_token="tok<&>en",
        scan_url="/worklist/scan/",
        flag_days=flag_days,
        **urls,
    )
    assert _squash(built) == _squash(expected)

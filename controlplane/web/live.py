"""Forms checked as the person edits: the same ``clean()`` as on submit, answered by HTMX.

A form opts in with ``hx-post`` to a check view on ``change``/``input`` and ``hx-swap="none"``;
the view calls ``check_as_typed``, which runs the form's own validation (one rule, one place)
and answers every field's error slot out of band. Nothing is saved, and no script is added to
the page (HTMX's attributes only), so a Content Security Policy without inline script holds.
"""

from django.shortcuts import render

# What is only missing waits for submit: the person has not got to that field yet.
NOT_YET = frozenset({"required", "incomplete"})


def check_as_typed(request, form):
    """``form`` bound to what has been entered so far: its errors, minus the missing ones, as
    out-of-band swaps of each field's error slot (``web/_field_errors.html``)."""
    form.is_valid()
    for name, errors in list(form.errors.as_data().items()):
        said = [error for error in errors if error.code not in NOT_YET]
        if said:
            form.errors[name] = form.error_class(said, renderer=form.renderer)
        else:
            del form.errors[name]
    response = render(request, "web/_live_errors.html", {"form": form})
    response["Cache-Control"] = "no-store"
    return response

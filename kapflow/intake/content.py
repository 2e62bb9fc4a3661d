"""The text the public pages ship with, until the clinic admin writes their own.

Written in our own words from the clinic description in the seed (see DOMAIN.md). It is
general information for the public, not advice; each clinic edits it to match its practice.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

HOME_TITLE = _("Ketamine-assisted psychotherapy")
HOME_BODY = _(
    """Ketamine-assisted psychotherapy (KAP) pairs a carefully measured dose of ketamine, given under medical supervision, with therapy before, during and after. It is usually considered for people whom the usual treatments for depression, anxiety or trauma have not helped enough.

## How it starts
You ask for a first appointment. We call or write back, and you meet us for screening: a medical and a mental-health review that shows whether KAP is a safe and sensible option for you.

## What we do together
If KAP suits you, you meet your therapist to prepare, then come for dosing sessions with a medical professional and your therapist present, and afterwards you work through what came up in integration sessions. We ask you to fill in short symptom questionnaires along the way, so we can all see whether it helps.

## Is it for me?
Try our short, anonymous self-check, or simply ask for an appointment."""
)

HOW_TITLE = _("How KAP works")
HOW_BODY = _(
    """## Screening first
KAP must be done under the care of qualified medical and mental-health professionals, and proper screening comes first. We ask about the treatments you have tried, your physical and mental health, the medicines you take and your use of alcohol and drugs. Some conditions make ketamine unsafe, for example certain blood-vessel problems in the brain, a history of psychosis, pregnancy, or blood pressure that is not under control. A clinician decides with you whether KAP is right for you.

## Preparation
Before any dosing, you and your therapist talk through your intentions, your goals and what to expect. You sign your consent at this stage, and we explain practical things: not eating for a few hours before, bringing someone to take you home, and not driving until the next day.

## The dosing session
A medical professional, never your therapist, gives you a measured dose and watches over you: blood pressure, breathing and how alert you are. The dose may be a lozenge that dissolves in the mouth, an injection into a muscle, or an infusion into a vein. The effects last from about 45 minutes to a few hours, depending on how it is given. Your therapist is with you to guide you through the experience. Many people feel detached, relaxed or see things differently for a while; old patterns of thought can loosen and feelings or insights can come up.

## Integration
Perhaps the most important part comes after the ketamine wears off. In integration sessions your therapist helps you make sense of what came up and connect it to your daily life, so that it turns into lasting change.

## Risks
During a session blood pressure and heart rate rise for a while, and some people feel sick, dizzy or uneasy. The team watches you until you are ready to go home. We discuss the risks that apply to you at screening and before you consent.

## Who it is for
KAP is usually considered for people looking for hope when other doors have seemed closed: when several treatments have not helped enough. It is not a first step, and it is not right for everyone."""
)

DEFAULTS = {
    "home": (HOME_TITLE, HOME_BODY),
    "how-kap-works": (HOW_TITLE, HOW_BODY),
}

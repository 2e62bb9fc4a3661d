"""The consent text kapflow ships, until the clinic admin publishes their own.

Written in our own words from the domain notes (DOMAIN.md). It is an example to start from,
not legal or medical advice: each clinic's legal and medical advisers must review it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EXAMPLE_LABEL = _("Example: your clinic's legal and medical advisers must review this text.")

EXAMPLE_TITLE = _("Consent to ketamine-assisted psychotherapy")
EXAMPLE_BODY = _(
    """Example: your clinic's legal and medical advisers must review this text.

## What KAP is
Ketamine-assisted psychotherapy (KAP) combines psychotherapy with doses of ketamine given under medical supervision. You prepare with your therapist before any dosing, your therapist is with you during dosing sessions, and you work through what came up in integration sessions afterwards. A medical professional, never your therapist, gives you the medication.

## Ketamine is used off-label
Ketamine is approved in the United States as an anaesthetic. It is not FDA-approved for treating depression, anxiety or other psychiatric conditions; using it for them is "off-label". (Esketamine nasal spray, a related medicine, is approved for some kinds of depression under a special safety programme.) We cannot promise that KAP will help you.

## The dosing session and monitoring
Before each session we check that your screening is current, that you have followed the fasting instructions (for example no food for a few hours and no drinks for the last half hour to an hour) and that someone will take you home. During the session a medical professional measures your blood pressure, heart rate and breathing and checks how alert you are, and stays until you are ready to leave.

## How ketamine is given and how long it lasts
The dose may be a lozenge or tablet that dissolves in the mouth, an injection into a muscle, or an infusion into a vein. The effects start within minutes and last from about 45 minutes to a few hours, depending on how it is given. You will stay at the clinic until the team is satisfied that you can go home.

## Risks
Blood pressure and heart rate rise for a while during a session; we may delay or stop a session if your blood pressure is too high. Some people feel sick or vomit, dizzy, drowsy or uneasy. Feeling detached from your body or surroundings (dissociation) is expected and passes as the medicine wears off. Rarely, repeated use can cause bladder problems; tell us if passing urine becomes painful or frequent. Ketamine can be misused, and we keep it only in the clinic and give it only under supervision. Tell us about every medicine, drug and alcohol you take: some of them interact with ketamine.

## After a session
Do not drive, cycle, operate machinery or make important decisions until the next day, after a full night's sleep. An adult you trust must take you home.

## Your right to withdraw
Taking part is your choice. You may withdraw your consent at any time, in the patient portal or by telling any member of the team, without giving a reason and without it affecting the rest of your care. Once you withdraw, no further dosing will take place unless you consent again.

## Your information and psychotherapy notes
Your records are kept confidential and used for your care. Your therapist's psychotherapy notes are kept apart from the rest of your record and are shared with no one, not even other members of your care team, without your written permission, except where the law requires it.

## Questions
Ask your care team about anything in this form before you sign. Signing means you have read and understood it, your questions have been answered, and you agree to KAP."""
)

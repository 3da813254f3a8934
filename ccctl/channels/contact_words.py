"""What the patients' contact form says, in each language the console speaks (en, zh, pl).

A refusal names what went wrong and what to do; the form comes back filled in, so each one
ends by saying the message is still there. {megabytes}, {minutes}, {hours} and {days} come from the settings;
the privacy notice here is the shipped one, a hospital's own is contact_form.privacy_notice.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 5000

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "hospital": "Hospital",
        "title": "Write to the hospital",
        "intro": "Send us a message or a document (a referral, a result). PDF, JPEG or PNG only, up to {megabytes} MB.",
        "name": "Your name",
        "phone": "Phone number",
        "email": "E-mail address",
        "code": "Patient code (if you know it)",
        "message": "Your message",
        "document": "Document (optional)",
        "complaint": "This is a complaint",
        "send": "Send",
        "thanks": "Thank you. Your message has been received; its reference is",
        "need_contact": "Please give a phone number or an e-mail address so we can answer you.",
        "bad_phone": "The phone number is not one we can call: write it in digits, e.g. +48 601 234 567.",
        "need_message": "Please write a message.",
        "too_long": f"The message is longer than {MAX_MESSAGE_CHARS} characters.",
        "kept": "Your message has not been sent yet and is still below; choose the document again if you send one.",
        "too_many": "Many messages have come from here or with these contact details in a short time, so this one "
        "was not sent. Please try again in {minutes} minutes, or call us.",
        "refused": "The document was not accepted:",
        "upload_empty": "the file is empty. Choose the file again.",
        "upload_too_large": "it is larger than {megabytes} MB. Send a smaller scan, or one page per message.",
        "upload_program": "it is a program, not a document. Send a PDF, JPEG or PNG.",
        "upload_not_a_document": "it is not a PDF, JPEG or PNG file. Save or scan it as one of these and send that.",
        "upload_incomplete": "the file is damaged or incomplete. Save or scan it again.",
        "upload_active_content": "it contains a script or program code. Send a scan or a photo of the paper instead.",
        "required": "required",
        "answer_by": "How we can answer you: a phone number or an e-mail address (one is enough)",
        "check_fields": "Please check the fields marked below; nothing has been sent yet.",
        "reply_hours": "We answer within {hours} hours.",
        "reply_days": "We answer within {days} days.",
        "privacy_title": "Your privacy",
        "privacy": "We use what you send only to answer you, and keep it in the hospital's records as the law "
        "requires. Write no more about your health than your question needs. Staff who read it are bound by "
        "medical confidentiality.",
    },
    "zh": {
        "hospital": "医院",
        "title": "给医院留言",
        "intro": "发送留言或文件（转诊单、检查结果）。仅限 PDF、JPEG 或 PNG，不超过 {megabytes} MB。",
        "name": "您的姓名",
        "phone": "电话号码",
        "email": "电子邮箱",
        "code": "患者编号（如知道）",
        "message": "留言内容",
        "document": "文件（可选）",
        "complaint": "这是投诉",
        "send": "发送",
        "thanks": "谢谢。我们已收到您的留言，编号为",
        "need_contact": "请留下电话号码或电子邮箱，以便我们回复您。",
        "bad_phone": "这个电话号码无法拨打：请用数字填写，例如 +86 138 0013 8000。",
        "need_message": "请填写留言内容。",
        "too_long": f"留言超过 {MAX_MESSAGE_CHARS} 个字符。",
        "kept": "您的留言尚未发送，仍保留在下方；如需附带文件，请重新选择。",
        "too_many": "短时间内从此处或以此联系方式发来的留言过多，本条未发送。请在 {minutes} 分钟后重试，或致电我们。",
        "refused": "文件未被接受：",
        "upload_empty": "文件是空的。请重新选择文件。",
        "upload_too_large": "文件超过 {megabytes} MB。请发送较小的扫描件，或每条留言一页。",
        "upload_program": "这是程序，不是文件。请发送 PDF、JPEG 或 PNG。",
        "upload_not_a_document": "这不是 PDF、JPEG 或 PNG 文件。请另存或扫描为其中一种格式后发送。",
        "upload_incomplete": "文件已损坏或不完整。请重新保存或扫描。",
        "upload_active_content": "文件中含有脚本或程序代码。请改为发送纸质文件的扫描件或照片。",
        "required": "必填",
        "answer_by": "我们如何回复您：电话号码或电子邮箱（填写其一即可）",
        "check_fields": "请检查下方标出的项目；留言尚未发送。",
        "reply_hours": "我们会在 {hours} 小时内回复。",
        "reply_days": "我们会在 {days} 天内回复。",
        "privacy_title": "隐私说明",
        "privacy": "您发送的内容仅用于回复您，并按法律要求保存在医院的记录中。请只写与您的问题相关的健康信息。"
        "阅读留言的工作人员均负有医疗保密义务。",
    },
    "pl": {
        "hospital": "Szpital",
        "title": "Napisz do szpitala",
        "intro": "Wyślij wiadomość lub dokument (skierowanie, wynik). Tylko PDF, JPEG lub PNG, do {megabytes} MB.",
        "name": "Imię i nazwisko",
        "phone": "Numer telefonu",
        "email": "Adres e-mail",
        "code": "Kod pacjenta (jeśli go znasz)",
        "message": "Wiadomość",
        "document": "Dokument (opcjonalnie)",
        "complaint": "To jest skarga",
        "send": "Wyślij",
        "thanks": "Dziękujemy. Wiadomość została przyjęta; jej numer to",
        "need_contact": "Podaj numer telefonu lub adres e-mail, abyśmy mogli odpowiedzieć.",
        "bad_phone": "Pod ten numer nie możemy zadzwonić: wpisz go cyframi, np. +48 601 234 567.",
        "need_message": "Napisz wiadomość.",
        "too_long": f"Wiadomość jest dłuższa niż {MAX_MESSAGE_CHARS} znaków.",
        "kept": "Wiadomość nie została jeszcze wysłana i jest poniżej; jeśli wysyłasz dokument, wybierz go ponownie.",
        "too_many": "W krótkim czasie przyszło stąd lub z tymi danymi kontaktowymi wiele wiadomości, więc ta nie "
        "została wysłana. Spróbuj ponownie za {minutes} minut albo zadzwoń do nas.",
        "refused": "Dokument nie został przyjęty:",
        "upload_empty": "plik jest pusty. Wybierz plik ponownie.",
        "upload_too_large": "jest większy niż {megabytes} MB. Wyślij mniejszy skan albo jedną stronę na wiadomość.",
        "upload_program": "to program, a nie dokument. Wyślij PDF, JPEG lub PNG.",
        "upload_not_a_document": "to nie jest plik PDF, JPEG ani PNG. Zapisz lub zeskanuj go w jednym z tych formatów.",
        "upload_incomplete": "plik jest uszkodzony lub niepełny. Zapisz lub zeskanuj go ponownie.",
        "upload_active_content": "zawiera skrypt lub kod programu. Wyślij zamiast tego skan lub zdjęcie dokumentu.",
        "required": "wymagane",
        "answer_by": "Jak możemy odpowiedzieć: numer telefonu lub adres e-mail (wystarczy jedno)",
        "check_fields": "Sprawdź zaznaczone poniżej pola; nic jeszcze nie zostało wysłane.",
        "reply_hours": "Odpowiadamy w ciągu {hours} godz.",
        "reply_days": "Odpowiadamy w ciągu {days} dni.",
        "privacy_title": "Twoje dane",
        "privacy": "To, co wyślesz, wykorzystamy tylko do odpowiedzi i przechowamy w dokumentacji szpitala, jak "
        "wymaga prawo. Pisz o zdrowiu tylko tyle, ile wymaga pytanie. Osoby, które to czytają, obowiązuje "
        "tajemnica lekarska.",
    },
}


LANGUAGE_NAMES = {"en": "English", "zh": "中文", "pl": "Polski"}  # each in itself, as the patient looks for it


def contact_text(language: str) -> dict[str, str]:
    return TEXT.get(language, TEXT["en"])

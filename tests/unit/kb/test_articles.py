"""Loading and checking articles: every problem as FILE:LINE, expired articles withheld and reported."""

from __future__ import annotations

import datetime as dt

from kb_files import KB_DIR, article, dedent

from ccctl.kb.articles import load_articles
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.kb.text import LANGUAGES


def test_the_shipped_articles_pass_the_check_in_every_language_with_the_same_topics():
    load = load_articles(KB_DIR)
    assert [str(p) for p in load.problems] == []
    slugs = {lang: {a.slug for a in load.articles if a.language == lang} for lang in LANGUAGES}
    assert len(slugs["en"]) >= 20
    assert slugs["en"] == slugs["pl"] == slugs["zh"]
    assert all(a.short and a.questions and a.valid_until > dt.date(2026, 12, 1) for a in load.articles)


def test_each_problem_names_the_file_and_line_to_fix(tmp_path):
    kb = tmp_path / "kb"
    path = kb / "en" / "parking.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        dedent("""
        ---
        title: Parking
        questions: ["Where can I park?"]
        short: Park at the gate.
        valid_until: 2030-02-30
        owner: facilities@example.org
        colour: blue
        ---
        The car park.
        """)
    )
    article(kb, "en", "Bad_Name")
    article(kb, "pl", "bez-pytan", questions=())
    (kb / "zh" / "no-front.md").parent.mkdir(parents=True)
    (kb / "zh" / "no-front.md").write_text("# 停车\n")
    load = load_articles(kb)
    assert sorted(str(p) for p in load.problems) == sorted([
        f"{path}:5: 'valid_until' must be a date like 2027-12-31, got '2030-02-30'",
        f"{path}:7: unknown key 'colour' (known: title, questions, short, valid_until, owner, tags, departments)",
        f"{kb / 'en' / 'Bad_Name.md'}: the file name 'Bad_Name' is not a slug (lower-case letters, digits and -)",
        f"{kb / 'pl' / 'bez-pytan.md'}:3: 'questions' must be a list of texts",
        f"{kb / 'zh' / 'no-front.md'}:1: an article starts with front matter between '---' lines",
    ])  # fmt: skip
    assert load.articles == []


def test_missing_keys_bad_yaml_and_unknown_languages_are_reported(tmp_path):
    kb = tmp_path / "kb"
    path = kb / "en" / "hours.md"
    path.parent.mkdir(parents=True)
    path.write_text("---\ntitle: Hours\nquestions: [When]\n---\nOpen.\n")
    broken = kb / "pl" / "zle.md"
    broken.parent.mkdir(parents=True)
    broken.write_text("---\ntitle: [unclosed\n---\ntext\n")
    (kb / "de").mkdir()
    problems = sorted(str(p) for p in load_articles(kb).problems)
    assert problems == sorted([
        f"{path}:1: missing required key 'short'",
        f"{path}:1: missing required key 'valid_until'",
        f"{path}:1: missing required key 'owner'",
        f"{broken}:2: front matter is not valid YAML (expected ',' or ']', but got '<stream end>')",
        f"{kb / 'de'}: no search for language 'de' (en, pl, zh)",
    ])  # fmt: skip


def test_an_article_past_valid_until_is_withheld_from_search_and_reported_by_kb_check(tmp_path, ccctl):
    kb = tmp_path / "kb"
    article(kb, "en", "parking", title="Parking", questions=("Where can I park my car?",))
    article(kb, "en", "flu-shots", title="Flu shots", questions=("Where do I get a flu shot?",),
            valid_until="2020-01-31")  # fmt: skip
    knowledge = KnowledgeBase(kb)
    assert knowledge.search("where can i get a flu shot", "en").hits == ()
    assert knowledge.search("where can i park", "en").answer.article.slug == "parking"
    assert knowledge.missing_article("flu-shots", "en") == "article 'flu-shots' (en) is past its valid_until date"
    result = ccctl("kb", "check")
    assert result.exit_code == 1
    assert (
        f"{kb / 'en' / 'flu-shots.md'}: past valid_until 2020-01-31 (withheld from search and the phone; "
        in result.output
    )
    assert result.output.endswith("ccctl: articles in search: 1 en; 0 problems, 1 past valid_until\n")
    listed = ccctl("kb", "list", "--lang", "en").output.splitlines()
    assert listed[0].split() == ["SLUG", "LANGUAGE", "TITLE", "VALID_UNTIL", "OWNER", "STATUS"]
    assert listed[1].split()[0] == "flu-shots" and listed[1].split()[-1] == "expired"
    assert listed[2].split()[0] == "parking" and listed[2].split()[-1] == "current"


def test_kb_check_passes_on_good_articles_and_notes_a_missing_translation(tmp_path, ccctl):
    kb = tmp_path / "kb"
    article(kb, "en", "parking")
    article(kb, "pl", "parking", title="Parking", short="Parking przy bramie.", questions=("Gdzie zaparkować?",))
    article(kb, "en", "wifi", title="Wi-Fi", short="The network is Guest.", questions=("Is there Wi-Fi?",))
    result = ccctl("kb", "check")
    assert result.exit_code == 0, result.output
    assert result.output == "note: 'wifi' has no pl version\narticles in search: 2 en, 1 pl; OK\n"


def test_kb_import_checks_everything_first_and_copies_only_good_articles(tmp_path, ccctl):
    incoming = tmp_path / "incoming"
    article(incoming, "en", "parking", short="New parking answer.")
    bad = article(incoming, "zh", "tingche", valid_until="someday")
    article(tmp_path / "kb", "en", "parking", short="Old parking answer.")
    refused = ccctl("kb", "import", str(incoming))
    assert refused.exit_code == 1
    assert refused.output == (
        f"{bad}:6: 'valid_until' must be a date like 2027-12-31, got 'someday'\n"
        "ccctl: 1 problems in the articles to import; nothing was copied\n"
    )
    assert "Old parking answer." in (tmp_path / "kb" / "en" / "parking.md").read_text()
    bad.unlink()
    article(incoming, "zh", "tingche", title="停车", short="在正门停车。", questions=("在哪里停车？",))
    done = ccctl("kb", "import", str(incoming))
    assert done.exit_code == 0, done.output
    assert done.output == f"imported 2 articles into {tmp_path / 'kb'} (1 new, 1 replaced)\n"
    shown = ccctl("kb", "show", "parking", "--lang", "en")
    assert "phone answer: New parking answer." in shown.output
    assert ccctl("kb", "show", "tingche", "--lang", "zh", "--json").output.count("在正门停车。") == 1
    missing = ccctl("kb", "show", "nothing", "--lang", "en")
    assert missing.exit_code == 1 and missing.output == f"ccctl: no article 'nothing' in {tmp_path / 'kb' / 'en'}\n"

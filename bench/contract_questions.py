"""Ask a long contract the questions a reader asks of one, and say which are answered from the right clause.

    python bench/contract_questions.py [--support] [--json]

The contract is tests/contract.py's supply agreement (18 numbered clauses with headings and a schedule of 240 line
items, 29,955 characters), written for this project. The questions were written with it, most of them worded
otherwise than the clause that answers them ("How long are the goods guaranteed?" of "The Supplier warrants ...
for a period of twenty-four (24) months"), as a reader asks them. A question is right when it is answered and one
of its quotes holds the clause's key words; near misses ask for what the contract does not say and should be
declined. A small set, written here: a check of behaviour, not a measure of quality on real contracts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from common import ROOT, load

sys.path.insert(0, str(ROOT / "tests"))
from contract import contract_text  # noqa: E402

QUESTIONS = [  # (question, words of the answering clause that a right quote holds)
    ("May either party assign this agreement to someone else?", "Neither party may assign"),
    ("How long are the goods guaranteed?", "free from defects in materials"),
    ("Can the buyer end the contract early?", "terminate this Agreement for convenience"),
    ("Which country's law applies?", "governed by and construed"),
    ("What happens if a delivery is late?", "liquidated damages"),
    ("Who pays for shipping?", "costs of carriage"),
    ("Is the supplier liable for lost profits?", "loss of profit"),
    ("How quickly must invoices be paid?", "within thirty (30) days of receipt"),
    ("Must information about the other company be kept secret?", "keep secret"),
    ("What if a flood stops the supplier from delivering?", "beyond its reasonable control"),
    ("How long does the agreement last?", "initial term of three years"),
    ("When do the goods become the customer's property?", "Title and risk"),
    ("How long does the customer have to check the goods?", "within ten Working Days of delivery"),
    ("Can the supplier use a subcontractor?", "subcontract the surface coating"),
    ("What does a housing of type M12-031 cost?", "M12-031"),
]
NEAR_MISSES = [
    "What does a housing of type M16-031 cost?",  # no such type: M12-031 is item 031
    "What is the deposit the customer must pay?",
    "How long are the goods guaranteed against theft?",
    "Which country's tax law applies to the Customer's employees?",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--support", action="store_true", help="with the learned support models on")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    from assistant.core import Assistant
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        documents = Path(folder) / "documents"
        documents.mkdir()
        (documents / "supply-agreement.txt").write_text(contract_text(), encoding="utf-8")
        settings = Settings.from_env().with_changes(index_path=str(Path(folder) / "index"), support_model=args.support)
        assistant = Assistant(settings)
        assistant.index_paths([documents])
        rows = []
        for question, key in QUESTIONS:
            answer = assistant.ask(question)
            right = answer.answered and any(key in citation.quote for citation in answer.citations)
            rows.append(
                {
                    "question": question,
                    "answered": answer.answered,
                    "right": right,
                    "quotes": len(answer.citations),
                    "evidence": round(answer.evidence, 3),
                }
            )
        near = []
        for question in NEAR_MISSES:
            answer = assistant.ask(question)
            near.append({"question": question, "answered": answer.answered, "evidence": round(answer.evidence, 3)})
    summary = {
        "questions": len(rows),
        "right": sum(row["right"] for row in rows),
        "answered": sum(row["answered"] for row in rows),
        "near_misses_declined": sum(not row["answered"] for row in near),
        "near_misses": len(near),
        "support_models": args.support,
        "load": load(),
    }
    if args.json:
        print(json.dumps({"summary": summary, "questions": rows, "near_misses": near}, indent=1))
        return 0
    for row in rows:
        mark = "right" if row["right"] else ("answered, wrong quote" if row["answered"] else "declined")
        print(f"{mark:22} evidence {row['evidence']:.2f}  {row['question']}")
    for row in near:
        mark = "answered" if row["answered"] else "declined"
        print(f"near miss {mark:12} evidence {row['evidence']:.2f}  {row['question']}")
    print(
        f"right {summary['right']} of {summary['questions']}, answered {summary['answered']}; "
        f"near misses declined {summary['near_misses_declined']} of {summary['near_misses']} (load {summary['load']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

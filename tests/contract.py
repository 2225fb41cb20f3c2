"""A long supply agreement written for the tests: numbered clauses with headings, then a schedule of 240 priced line
items that makes it about 30,000 characters, as real contracts are."""

from __future__ import annotations

CLAUSES = [
    (
        "Parties",
        (
            "This Supply Agreement is made on 4 February 2025 between Nordhaven Components B.V., a company "
            "registered in the Netherlands (the Supplier), and Calder Instruments Ltd, a company registered in "
            "Scotland (the Customer). The Supplier manufactures precision sensor housings and the Customer wishes"
            " to buy them on the terms set out below."
        ),
    ),
    (
        "Definitions",
        (
            "In this Agreement, Products means the goods listed in Schedule 1, and Delivery Address means the "
            "Customer's warehouse at 12 Harbour Road, Leith. Working Day means a day other than a Saturday, "
            "Sunday or public holiday in Scotland. Headings are for convenience only and do not affect the "
            "interpretation of this Agreement."
        ),
    ),
    (
        "Orders",
        (
            "The Customer may place orders for Products by sending a written purchase order to the Supplier. The "
            "Supplier shall confirm or reject each purchase order within five Working Days of receiving it. A "
            "confirmed purchase order is binding on both parties and may be changed only by written agreement."
        ),
    ),
    (
        "Delivery",
        (
            "The Supplier shall deliver the Products to the Delivery Address on the delivery date stated in the "
            "confirmed purchase order. The Supplier shall bear all costs of carriage and insurance until the "
            "Products are delivered to the Delivery Address. Title and risk in the Products pass to the Customer "
            "on delivery."
        ),
    ),
    (
        "Late delivery",
        (
            "If the Supplier fails to deliver the Products by the agreed delivery date, the Supplier shall pay "
            "liquidated damages of 0.5% of the price of the delayed Products for each full week of delay, up to a"
            " maximum of 10% of that price. Where the delay exceeds eight weeks, the Customer may cancel the "
            "affected purchase order without liability."
        ),
    ),
    (
        "Price and payment",
        (
            "The prices of the Products are those set out in Schedule 1 and are fixed for the first twelve months"
            " of this Agreement. The Supplier shall invoice the Customer on or after delivery. The Customer shall"
            " pay each undisputed invoice within thirty (30) days of receipt. Interest on late payments accrues "
            "at 4% a year above the base rate of the European Central Bank."
        ),
    ),
    (
        "Inspection",
        (
            "The Customer shall inspect the Products within ten Working Days of delivery and notify the Supplier "
            "in writing of any shortfall or visible damage. Products not rejected within that period are deemed "
            "accepted, without prejudice to the warranty below."
        ),
    ),
    (
        "Warranty",
        (
            "The Supplier warrants that the Products will be free from defects in materials and workmanship for a"
            " period of twenty-four (24) months from the date of delivery. During that period the Supplier shall,"
            " at its option, repair or replace any defective Product free of charge, or refund its price."
        ),
    ),
    (
        "Limitation of liability",
        (
            "Neither party shall be liable to the other for any loss of profit, loss of revenue or any indirect "
            "or consequential loss arising under this Agreement. Each party's total liability in any contract "
            "year shall not exceed the total price paid for Products in that year. Nothing in this Agreement "
            "limits liability for death or personal injury caused by negligence, or for fraud."
        ),
    ),
    (
        "Confidentiality",
        (
            "Each party shall keep secret all technical and commercial information received from the other party "
            "in connection with this Agreement and shall not disclose it to any third party without the other "
            "party's written consent. This obligation does not apply to information that is or becomes public "
            "other than through a breach of this clause, and it survives termination for five years."
        ),
    ),
    (
        "Intellectual property",
        (
            "All drawings, tooling designs and specifications provided by the Customer remain the property of the"
            " Customer. The Supplier shall use them only to manufacture the Products for the Customer and shall "
            "return them on request."
        ),
    ),
    (
        "Force majeure",
        (
            "Neither party is in breach of this Agreement if it is prevented from performing its obligations by "
            "events beyond its reasonable control, including flood, fire, epidemic, war or the failure of a "
            "public utility. The affected party shall notify the other promptly, and if the event continues for "
            "more than sixty days, either party may terminate this Agreement by written notice."
        ),
    ),
    (
        "Term",
        (
            "This Agreement starts on the date written above and continues for an initial term of three years. It"
            " then renews automatically for successive periods of one year unless either party gives notice of "
            "non-renewal at least six months before the end of the current term."
        ),
    ),
    (
        "Termination",
        (
            "The Customer may terminate this Agreement for convenience at any time by giving the Supplier not "
            "less than ninety (90) days' written notice. Either party may terminate this Agreement with immediate"
            " effect by written notice if the other party commits a material breach that it fails to remedy "
            "within thirty days of being asked to do so, or if the other party becomes insolvent."
        ),
    ),
    (
        "Assignment",
        (
            "Neither party may assign, transfer or subcontract any of its rights or obligations under this "
            "Agreement without the prior written consent of the other party, which shall not be unreasonably "
            "withheld. The Supplier may, however, subcontract the surface coating of the Products to a coating "
            "specialist approved in writing by the Customer."
        ),
    ),
    (
        "Notices",
        (
            "Notices under this Agreement must be in writing and sent by recorded delivery or by email to the "
            "addresses given in Schedule 2. A notice sent by email is received at the time of transmission if "
            "sent on a Working Day before 5 pm, and otherwise on the next Working Day."
        ),
    ),
    (
        "Governing law",
        (
            "This Agreement and any dispute arising out of it shall be governed by and construed in accordance "
            "with the laws of the Netherlands. The courts of Amsterdam have exclusive jurisdiction to settle any "
            "dispute that the parties cannot resolve by negotiation within forty-five days."
        ),
    ),
    (
        "Entire agreement",
        (
            "This Agreement, together with its Schedules, is the entire agreement between the parties and "
            "replaces all earlier agreements, proposals and understandings about its subject matter. No variation"
            " of this Agreement is effective unless it is in writing and signed by both parties."
        ),
    ),
]
MATERIALS = ["aluminium", "stainless steel", "brass", "anodised aluminium", "polycarbonate", "nickel-plated steel"]
SIZES = ["M8", "M12", "M16", "M20", "M24"]


def contract_text() -> str:
    """The agreement: "1. Parties. This Supply Agreement ..." and so on, blank lines between clauses."""
    parts = [f"{n}. {title}. {body}" for n, (title, body) in enumerate(CLAUSES, start=1)]
    rows = ["Schedule 1. Products and prices."]
    for item in range(1, 241):
        material = MATERIALS[item % len(MATERIALS)]
        size = SIZES[item % len(SIZES)]
        rows.append(
            f"Item {item:03d}: sensor housing type {size}-{item:03d} in {material}, "
            f"batch size {50 * (1 + item % 4)} units, unit price {12 + (item * 37) % 90}.{item % 10}0 EUR."
        )
    return "\n\n".join(parts) + "\n\n" + "\n".join(rows) + "\n"

"""SBI 2008 (Standaard Bedrijfsindeling, CBS) divisions, grouped by section.

A company's industry is its two-digit SBI division: what the Chamber of Commerce (KvK)
registers, and what lists filter and the ICP weighs.
"""

from django.utils.translation import gettext_lazy as _

SECTIONS = [
    (
        _("A · Agriculture, forestry and fishing"),
        [
            ("01", _("Agriculture and hunting")),
            ("02", _("Forestry")),
            ("03", _("Fishing and aquaculture")),
        ],
    ),
    (
        _("B · Mining and quarrying"),
        [
            ("06", _("Extraction of crude oil and natural gas")),
            ("08", _("Other mining and quarrying")),
            ("09", _("Mining support services")),
        ],
    ),
    (
        _("C · Manufacturing"),
        [
            ("10", _("Food products")),
            ("11", _("Beverages")),
            ("13", _("Textiles")),
            ("14", _("Wearing apparel")),
            ("16", _("Wood products")),
            ("17", _("Paper and paper products")),
            ("18", _("Printing")),
            ("20", _("Chemicals")),
            ("21", _("Pharmaceuticals")),
            ("22", _("Rubber and plastic products")),
            ("23", _("Glass, ceramics and concrete")),
            ("24", _("Basic metals")),
            ("25", _("Fabricated metal products")),
            ("26", _("Computers, electronics and optics")),
            ("27", _("Electrical equipment")),
            ("28", _("Machinery and equipment")),
            ("29", _("Motor vehicles and trailers")),
            ("30", _("Other transport equipment")),
            ("31", _("Furniture")),
            ("32", _("Other manufacturing")),
            ("33", _("Repair and installation of machinery")),
        ],
    ),
    (
        _("D · Energy supply"),
        [("35", _("Electricity, gas, steam and cooling"))],
    ),
    (
        _("E · Water supply and waste management"),
        [
            ("36", _("Water collection and supply")),
            ("37", _("Sewerage")),
            ("38", _("Waste collection, treatment and recycling")),
            ("39", _("Remediation")),
        ],
    ),
    (
        _("F · Construction"),
        [
            ("41", _("Construction of buildings and project development")),
            ("42", _("Civil engineering")),
            ("43", _("Specialised construction work")),
        ],
    ),
    (
        _("G · Wholesale and retail trade"),
        [
            ("45", _("Trade and repair of motor vehicles")),
            ("46", _("Wholesale trade")),
            ("47", _("Retail trade")),
        ],
    ),
    (
        _("H · Transportation and storage"),
        [
            ("49", _("Land transport")),
            ("50", _("Water transport")),
            ("51", _("Air transport")),
            ("52", _("Warehousing and transport services")),
            ("53", _("Postal and courier services")),
        ],
    ),
    (
        _("I · Accommodation and food service"),
        [
            ("55", _("Accommodation")),
            ("56", _("Restaurants, cafés and catering")),
        ],
    ),
    (
        _("J · Information and communication"),
        [
            ("58", _("Publishing")),
            ("59", _("Film, television and music production")),
            ("60", _("Broadcasting")),
            ("61", _("Telecommunications")),
            ("62", _("IT services and software")),
            ("63", _("Information services")),
        ],
    ),
    (
        _("K · Financial services"),
        [
            ("64", _("Financial institutions")),
            ("65", _("Insurance and pension funds")),
            ("66", _("Other financial services")),
        ],
    ),
    (_("L · Real estate"), [("68", _("Real estate"))]),
    (
        _("M · Professional, scientific and technical services"),
        [
            ("69", _("Legal, accounting and tax advice")),
            ("70", _("Head offices and management consultancy")),
            ("71", _("Architecture and engineering")),
            ("72", _("Research and development")),
            ("73", _("Advertising and market research")),
            ("74", _("Design, photography, translation and other consultancy")),
            ("75", _("Veterinary services")),
        ],
    ),
    (
        _("N · Administrative and support services"),
        [
            ("77", _("Rental and leasing")),
            ("78", _("Employment agencies")),
            ("79", _("Travel agencies and tour operators")),
            ("80", _("Security and investigation")),
            ("81", _("Facility management and cleaning")),
            ("82", _("Other business support services")),
        ],
    ),
    (_("O · Public administration"), [("84", _("Public administration and services"))]),
    (_("P · Education"), [("85", _("Education"))]),
    (
        _("Q · Health and social work"),
        [
            ("86", _("Health care")),
            ("87", _("Residential care")),
            ("88", _("Social work")),
        ],
    ),
    (
        _("R · Culture, sports and recreation"),
        [
            ("90", _("Arts")),
            ("91", _("Libraries, archives and museums")),
            ("92", _("Gambling")),
            ("93", _("Sports and recreation")),
        ],
    ),
    (
        _("S · Other services"),
        [
            ("94", _("Membership organisations")),
            ("95", _("Repair of computers and consumer goods")),
            ("96", _("Other personal services")),
        ],
    ),
    (_("U · Extraterritorial organisations"), [("99", _("Extraterritorial organisations"))]),
]

DIVISIONS = {code: label for _section, divisions in SECTIONS for code, label in divisions}

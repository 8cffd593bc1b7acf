"""Demo data for `manage.py load_demo`: three real malls, well-known retailers, people nearby.

Plain data only; the command turns it into rows, and every order through the services.
Mall addresses and coordinates are the real ones. Stores, catalogs, prices and people are
made up to look real: phone numbers use the 555-01xx range and emails example.com.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

PASSWORD = "mallrun"
SEED = 20240615

# How long the demo driver's open offers stay open, so the driver page shows them for a
# working day after loading (dispatch itself uses MALLRUN_OFFER_SECONDS).
OFFER_HOURS = 8

LV, TYSONS, GALLERIA = "fashion-show-las-vegas", "tysons-corner-center", "the-galleria-houston"

MALLS: list[dict] = [
    {
        "slug": LV,
        "short": "fashion-show",
        "label": "Fashion Show",
        "name": "Fashion Show Las Vegas",
        "street": "3200 S Las Vegas Blvd",
        "city": "Las Vegas",
        "state": "NV",
        "zip_code": "89109",
        "latitude": 36.1272,
        "longitude": -115.1719,
        "timezone": "America/Los_Angeles",
        "service_radius_km": Decimal("15.0"),
        "same_day_cutoff": dt.time(18, 0),
        "pickup_instructions": (
            "Enter the self-park garage from Fashion Show Dr and use the signed "
            "'Delivery & rideshare pickup' bays on level P1 by the Nordstrom elevators "
            "(15-minute limit). Stores hand over at their front counter; for Macy's use the "
            "Customer Service desk on Level 1. Show your hand-over code before bags are released."
        ),
        "delivery_fee_cents": 599,
        "pay_base_cents": 400,
        "pay_per_stop_cents": 250,
        "pay_per_km_cents": 60,
    },
    {
        "slug": TYSONS,
        "short": "tysons-corner",
        "label": "Tysons Corner",
        "name": "Tysons Corner Center",
        "street": "1961 Chain Bridge Rd",
        "city": "Tysons",
        "state": "VA",
        "zip_code": "22102",
        "latitude": 38.9177,
        "longitude": -77.2221,
        "timezone": "America/New_York",
        "service_radius_km": Decimal("20.0"),
        "same_day_cutoff": dt.time(17, 30),
        "pickup_instructions": (
            "Park in the Route 123 garage, level P2, rows A1-A6 ('Curbside pickup'). Walk in "
            "through the Bloomingdale's court entrance. Plaza-level stores hand over at their "
            "counter; everyone else brings orders to Guest Services on Level 1 when you check "
            "in. Keep your hand-over code ready."
        ),
        "delivery_fee_cents": 699,
        "pay_base_cents": 450,
        "pay_per_stop_cents": 275,
        "pay_per_km_cents": 70,
    },
    {
        "slug": GALLERIA,
        "short": "the-galleria",
        "label": "The Galleria",
        "name": "The Galleria",
        "street": "5085 Westheimer Rd",
        "city": "Houston",
        "state": "TX",
        "zip_code": "77056",
        "latitude": 29.7407,
        "longitude": -95.4636,
        "timezone": "America/Chicago",
        "service_radius_km": Decimal("18.0"),
        "same_day_cutoff": dt.time(18, 0),
        "pickup_instructions": (
            "Use the Westheimer Rd entrance by Nordstrom and park in the 'Order pickup' spaces "
            "at the front of the North garage, level 1. Stores in Galleria I and II hand over "
            "at their counter; the Level 1 concierge by the ice rink can call a store for you. "
            "Show your hand-over code."
        ),
        "delivery_fee_cents": 499,
        "pay_base_cents": 375,
        "pay_per_stop_cents": 225,
        "pay_per_km_cents": 55,
    },
]


class P(NamedTuple):
    """A catalog item; one SKU per variant (colour, shade, scent), or one SKU without."""

    code: str
    title: str
    category: str
    price_cents: int
    description: str
    variants: tuple[str, ...] = ()
    bags: int = 1


RETAILERS: list[dict] = [
    {
        "name": "Apple",
        "slug": "apple",
        "website": "https://www.apple.com",
        "prefix": "APL",
        "products": [
            P("IPH16-128", "iPhone 16 128GB", "Phones", 79900,
              "6.1-inch Super Retina XDR display, A18 chip, Camera Control and a 48MP Fusion "
              "camera. Unlocked.",
              ("Black", "White", "Pink", "Teal", "Ultramarine")),
            P("IPH16P-256", "iPhone 16 Pro 256GB", "Phones", 109900,
              "6.3-inch ProMotion display, A18 Pro chip and a 5x Telephoto camera in a titanium "
              "design. Unlocked.",
              ("Black Titanium", "Natural Titanium", "Desert Titanium")),
            P("APP2", "AirPods Pro 2 with USB-C Charging Case", "Audio", 24900,
              "Active Noise Cancellation, Adaptive Audio and Conversation Awareness; up to six "
              "hours of listening per charge."),
            P("AP4", "AirPods 4", "Audio", 12900,
              "Open-ear design with Personalized Spatial Audio and a USB-C charging case."),
            P("AP4ANC", "AirPods 4 with Active Noise Cancellation", "Audio", 17900,
              "AirPods 4 with Active Noise Cancellation, Transparency mode and a case with "
              "speaker for Find My."),
            P("APMAX", "AirPods Max", "Audio", 54900,
              "Over-ear headphones with high-fidelity audio, Active Noise Cancellation and "
              "USB-C charging.",
              ("Midnight", "Starlight", "Blue")),
            P("AW10-42", "Apple Watch Series 10 GPS 42mm", "Wearables", 39900,
              "The thinnest Apple Watch yet with a wide-angle OLED display, sleep apnea "
              "notifications and fast charging.",
              ("Jet Black", "Rose Gold", "Silver")),
            P("AWSE-40", "Apple Watch SE GPS 40mm", "Wearables", 24900,
              "Heart-rate notifications, Crash Detection and activity tracking at an easy "
              "price.",
              ("Midnight", "Starlight")),
            P("IPAD-128", "iPad 11-inch Wi-Fi 128GB", "Tablets", 34900,
              "Liquid Retina display, A16 chip and all-day battery life.",
              ("Blue", "Pink", "Silver", "Yellow")),
            P("IPADAIR-11", "iPad Air 11-inch M3 Wi-Fi 128GB", "Tablets", 59900,
              "Light and powerful with the M3 chip; works with Apple Pencil Pro and Magic "
              "Keyboard."),
            P("IPADMINI", "iPad mini A17 Pro Wi-Fi 128GB", "Tablets", 49900,
              "8.3-inch Liquid Retina display in an ultraportable design."),
            P("MBA13-M4", "MacBook Air 13-inch M4 16GB/256GB", "Computers", 99900,
              "Up to 18 hours of battery, a 13.6-inch Liquid Retina display and a 12MP Center "
              "Stage camera.",
              ("Midnight", "Sky Blue", "Silver", "Starlight")),
            P("MBP14-M4", "MacBook Pro 14-inch M4 16GB/512GB", "Computers", 159900,
              "Liquid Retina XDR display, M4 chip and Thunderbolt 4 ports.",
              ("Space Black", "Silver")),
            P("AIRTAG", "AirTag", "Accessories", 2900,
              "Keep track of keys, bags and luggage in the Find My app."),
            P("AIRTAG4", "AirTag 4 Pack", "Accessories", 9900,
              "Four AirTags for everything you don't want to lose."),
            P("PWR20", "20W USB-C Power Adapter", "Accessories", 1900,
              "Fast charging for iPhone, iPad and AirPods."),
            P("CBL-1M", "USB-C Woven Charge Cable (1 m)", "Accessories", 1900,
              "Woven design, USB-C on both ends."),
            P("MSAFE-1M", "MagSafe Charger (1 m)", "Accessories", 3900,
              "Snaps onto iPhone for wireless charging up to 25W with a 30W adapter."),
            P("PENCILPRO", "Apple Pencil Pro", "Accessories", 12900,
              "Squeeze, barrel roll and haptic feedback for iPad Air and iPad Pro."),
            P("PENCILC", "Apple Pencil (USB-C)", "Accessories", 7900,
              "Pixel-perfect precision and low latency for note taking and sketching."),
            P("MKB-TID", "Magic Keyboard with Touch ID", "Accessories", 14900,
              "Wireless, rechargeable keyboard with Touch ID for Mac with Apple silicon."),
            P("MMOUSE", "Magic Mouse (USB-C)", "Accessories", 7900,
              "Wireless, rechargeable mouse with a Multi-Touch surface."),
            P("IPH16-SIL", "iPhone 16 Silicone Case with MagSafe", "Cases", 4900,
              "Soft-touch silicone outside, microfiber lining inside.",
              ("Black", "Denim", "Fuchsia")),
            P("IPH16-CLR", "iPhone 16 Clear Case with MagSafe", "Cases", 4900,
              "Optically clear polycarbonate that shows off the colour of your iPhone."),
            P("ATV4K", "Apple TV 4K Wi-Fi 64GB", "Home", 12900,
              "4K HDR with Dolby Vision and Dolby Atmos, Siri Remote included."),
            P("HPMINI", "HomePod mini", "Home", 9900,
              "Room-filling sound and an intelligent assistant in a compact speaker.",
              ("White", "Midnight", "Blue")),
            P("BEATS-SOLO4", "Beats Solo 4 Wireless Headphones", "Audio", 19999,
              "On-ear headphones with up to 50 hours of battery life.", ("Matte Black",)),
            P("BEATS-PILL", "Beats Pill Portable Speaker", "Audio", 14999,
              "Waterproof Bluetooth speaker with USB-C audio and 24-hour battery."),
        ],
    },
    {
        "name": "Sephora",
        "slug": "sephora",
        "website": "https://www.sephora.com",
        "prefix": "SEP",
        "products": [
            P("RB-BLUSH", "Rare Beauty Soft Pinch Liquid Blush", "Makeup", 2300,
              "Weightless, long-lasting liquid blush that blends into a healthy flush.",
              ("Hope", "Joy", "Grace", "Happy")),
            P("FB-GLOSS", "Fenty Beauty Gloss Bomb Universal Lip Luminizer", "Makeup", 2200,
              "Ultra-shiny, non-sticky lip gloss with shea butter.",
              ("Fenty Glow", "Hot Chocolit", "Cheeky")),
            P("CT-PILLOW", "Charlotte Tilbury Matte Revolution Lipstick, Pillow Talk", "Makeup",
              3500, "The best-selling nude-pink lipstick in a hydrating matte finish."),
            P("DIOR-LGO", "Dior Addict Lip Glow Oil", "Makeup", 4000,
              "Nourishing glossy lip oil with cherry oil that enhances your natural colour.",
              ("001 Pink", "012 Rosewood")),
            P("GR-DEW", "Glow Recipe Watermelon Glow Niacinamide Dew Drops", "Skincare", 3500,
              "Lightweight serum-highlighter hybrid for a dewy glow."),
            P("DE-PROTINI", "Drunk Elephant Protini Polypeptide Firming Moisturizer", "Skincare",
              6800, "Protein moisturizer with signal peptides, growth factors and amino acids."),
            P("LAN-LSM", "LANEIGE Lip Sleeping Mask", "Skincare", 2400,
              "Leave-on overnight lip mask that soothes and moisturizes.",
              ("Berry", "Gummy Bear", "Vanilla")),
            P("SF-LBB", "Summer Fridays Lip Butter Balm", "Skincare", 2400,
              "Conditioning lip balm with shea butter for a sheer tint and shine.",
              ("Vanilla", "Pink Sugar", "Brown Sugar")),
            P("SDJ-BBC240", "Sol de Janeiro Brazilian Bum Bum Cream 240 mL", "Bath & Body", 4800,
              "Fast-absorbing body cream with a pistachio-and-salted-caramel scent."),
            P("SDJ-C62", "Sol de Janeiro Cheirosa 62 Perfume Mist 90 mL", "Fragrance", 3800,
              "Warm pistachio, salted caramel and vanilla body and hair mist."),
            P("TAT-DEWY", "Tatcha The Dewy Skin Cream", "Skincare", 7200,
              "Rich cream with Japanese purple rice for plump, dewy skin."),
            P("SG-UNSEEN", "Supergoop! Unseen Sunscreen SPF 40", "Skincare", 3800,
              "Invisible, weightless, scentless sunscreen that doubles as a primer."),
            P("NARS-RCC", "NARS Radiant Creamy Concealer", "Makeup", 3300,
              "Medium-to-buildable coverage with a natural radiant finish.",
              ("Light 2.5 Vanilla", "Medium 1 Custard", "Medium Deep 1 Caramel")),
            P("HUDA-EB", "Huda Beauty Easy Bake Loose Baking & Setting Powder", "Makeup", 3900,
              "Ultra-fine powder that sets makeup and blurs pores."),
            P("BEN-PMB", "Benefit Cosmetics Precisely, My Brow Pencil", "Makeup", 2600,
              "Ultra-fine brow-defining pencil with a spoolie."),
            P("TF-BTS", "Too Faced Better Than Sex Volumizing Mascara", "Makeup", 2900,
              "Intensely black mascara for volume and length."),
            P("OLA-3", "Olaplex No.3 Hair Perfector", "Hair", 3000,
              "At-home bond-building treatment for stronger, healthier-looking hair."),
            P("DYS-AWID", "Dyson Airwrap i.d. Multi-Styler and Dryer", "Hair Tools", 59999,
              "Curl, shape, smooth and dry with air, no extreme heat.", (), 2),
            P("SC-WIPES", "SEPHORA COLLECTION Cleansing & Exfoliating Wipes", "Skincare", 600,
              "Soft textured wipes that remove makeup and impurities."),
            P("DIOR-SAUV", "Dior Sauvage Eau de Toilette 100 mL", "Fragrance", 14000,
              "A fresh, raw and noble fragrance with Calabrian bergamot and ambroxan."),
            P("YSL-LIBRE", "Yves Saint Laurent Libre Eau de Parfum 50 mL", "Fragrance", 13500,
              "Floral lavender fragrance with orange blossom and musk."),
            P("CH-GG", "Carolina Herrera Good Girl Eau de Parfum 50 mL", "Fragrance", 12800,
              "Tuberose, jasmine and cocoa in the stiletto bottle."),
            P("TO-NIAC", "The Ordinary Niacinamide 10% + Zinc 1%", "Skincare", 600,
              "High-strength vitamin and mineral blemish formula."),
            P("FS-HV", "Fenty Skin Hydra Vizor Invisible Moisturizer SPF 30", "Skincare", 3800,
              "Refillable moisturizer and broad-spectrum sunscreen in one."),
            P("CT-SETSPRAY", "Charlotte Tilbury Airbrush Flawless Setting Spray", "Makeup", 3800,
              "Locks makeup in place for up to 16 hours."),
        ],
    },
    {
        "name": "Nike",
        "slug": "nike",
        "website": "https://www.nike.com",
        "prefix": "NKE",
        "products": [
            P("AF1-07", "Nike Air Force 1 '07 Men's Shoes", "Shoes", 11500,
              "The basketball original with crisp leather and Nike Air cushioning.",
              ("White/White", "Black/Black")),
            P("DUNK-LOW", "Nike Dunk Low Retro Men's Shoes", "Shoes", 11500,
              "80s b-ball icon with a padded low-cut collar.", ("White/Black", "Grey Fog")),
            P("AM90", "Nike Air Max 90 Men's Shoes", "Shoes", 13000,
              "Waffle outsole, stitched overlays and visible Max Air cushioning.",
              ("White/Cool Grey", "Black/Black")),
            P("PEG41", "Nike Pegasus 41 Men's Road Running Shoes", "Running", 14000,
              "Responsive ReactX foam and Air Zoom units for everyday miles.",
              ("Black/White", "Volt")),
            P("VOM18", "Nike Vomero 18 Women's Road Running Shoes", "Running", 15000,
              "Max-cushioned ride with ZoomX and ReactX foam."),
            P("INV3", "Nike Invincible 3 Men's Road Running Shoes", "Running", 18000,
              "Our highest level of comfort underfoot for easy miles."),
            P("AJ1-LOW", "Air Jordan 1 Low Shoes", "Shoes", 11500,
              "The AJ1 in a low-top with an encapsulated Air-Sole unit.",
              ("White/Wolf Grey", "Black/Gym Red")),
            P("TECH-WR", "Nike Sportswear Tech Fleece Windrunner Men's Full-Zip Hoodie",
              "Apparel", 14500, "Smooth double-sided Tech Fleece in a tailored fit.",
              ("Black", "Dark Grey Heather")),
            P("CLUB-HOOD", "Nike Sportswear Club Fleece Pullover Hoodie", "Apparel", 6000,
              "Soft brushed-back fleece for everyday comfort.",
              ("Black", "Dark Grey Heather", "Midnight Navy")),
            P("LEGEND-TEE", "Nike Dri-FIT Legend Men's Fitness T-Shirt", "Apparel", 3000,
              "Sweat-wicking training tee.", ("Black", "White")),
            P("CHALL-7", "Nike Challenger Men's Dri-FIT 7\" Running Shorts", "Apparel", 4500,
              "Lined running shorts with a zip pocket."),
            P("EVRY-6PK", "Nike Everyday Plus Cushioned Crew Socks (6 Pairs)", "Accessories",
              2800, "Cushioned, sweat-wicking training socks."),
            P("BRAS-24L", "Nike Brasilia 9.5 Training Backpack (24L)", "Bags", 4000,
              "Durable backpack with a padded laptop sleeve."),
            P("HER-XBODY", "Nike Heritage Crossbody Bag (4L)", "Bags", 2500,
              "Compact bag for your everyday essentials."),
            P("ONE-78", "Nike One Women's High-Waisted 7/8 Leggings", "Apparel", 6000,
              "Smooth, sculpting leggings for training and everyday wear."),
            P("SWOOSH-BRA", "Nike Swoosh Medium-Support Women's Sports Bra", "Apparel", 4000,
              "Padded sports bra with Dri-FIT technology."),
            P("CLUB-CAP", "Nike Club Unstructured Cap", "Accessories", 2500,
              "Soft, low-profile cotton cap.", ("Black", "White")),
        ],
    },
    {
        "name": "H&M",
        "slug": "h-and-m",
        "website": "https://www2.hm.com/en_us",
        "prefix": "HM",
        "products": [
            P("0685816", "Regular Fit T-shirt", "Men", 699,
              "T-shirt in soft cotton jersey with a round neckline.",
              ("White", "Black", "Light beige", "Navy blue")),
            P("0970819", "Loose Fit Hoodie", "Men", 2499,
              "Hoodie in sweatshirt fabric with a soft brushed inside.",
              ("Black", "Grey marl", "Dark green")),
            P("0636207", "Slim Jeans", "Men", 2999,
              "5-pocket jeans in stretch denim with a slim fit.", ("Denim blue", "Black")),
            P("1078372", "Relaxed Fit Linen-blend Shirt", "Men", 2499,
              "Shirt in an airy linen and cotton blend.", ("White", "Beige")),
            P("1120455", "Oversized Rib-knit Sweater", "Women", 2999,
              "Relaxed sweater in a soft rib knit.", ("Cream", "Black")),
            P("1024256", "Wide High Jeans", "Women", 3499,
              "High-waisted jeans with wide legs.", ("Light denim blue", "Black")),
            P("0985197", "Ribbed Tank Top", "Women", 899,
              "Fitted tank top in ribbed cotton jersey.", ("White", "Black", "Light pink")),
            P("1163421", "Satin Slip Dress", "Women", 3499,
              "Calf-length dress in satin with narrow adjustable shoulder straps.",
              ("Black", "Champagne")),
            P("0904726", "Twill Cargo Pants", "Men", 3499,
              "Relaxed cargo trousers in cotton twill.", ("Khaki green", "Black")),
            P("1109841", "Double-breasted Blazer", "Women", 4999,
              "Straight-cut blazer with notch lapels.", ("Black", "Beige")),
            P("0987364", "Canvas Tote Bag", "Accessories", 1499,
              "Roomy tote in sturdy cotton canvas."),
            P("0822395", "5-pack Ankle Socks", "Accessories", 999,
              "Ankle socks in a soft cotton blend."),
        ],
    },
    {
        "name": "Zara",
        "slug": "zara",
        "website": "https://www.zara.com/us/",
        "prefix": "ZAR",
        "products": [
            P("6164-042", "ZW Collection Straight-Leg Mid-Rise Jeans", "Women", 4990,
              "Five-pocket mid-rise jeans with a straight leg.", ("Blue", "Black")),
            P("3046-234", "Faux Leather Bomber Jacket", "Men", 6990,
              "Bomber jacket with a ribbed collar, cuffs and hem.", ("Black", "Brown")),
            P("7545-063", "Poplin Shirt", "Women", 3590,
              "Loose-fitting shirt with a lapel collar.", ("White", "Blue")),
            P("5755-110", "Soft Knit Cardigan", "Women", 4590,
              "V-neck cardigan with long sleeves and button fastening.", ("Ecru", "Grey")),
            P("2731-048", "Satin Midi Skirt", "Women", 4590,
              "High-waist midi skirt with an elastic waistband.", ("Champagne", "Black")),
            P("2010-744", "Oversized Blazer", "Women", 8990,
              "Lapel collar blazer with long sleeves and flap pockets.", ("Black", "Beige")),
            P("4174-321", "Ribbed Bodysuit", "Women", 2590,
              "Round neck bodysuit with long sleeves.", ("Black", "White")),
            P("2602-210", "Leather Loafers", "Shoes", 8990,
              "Leather loafers with a track sole.", ("Black",)),
            P("2117-110", "Heeled Ankle Boots", "Shoes", 7990,
              "Ankle boots with a block heel and side zip.", ("Black", "Brown")),
            P("0761-420", "Relaxed Fit Sweatshirt", "Men", 3590,
              "Round neck sweatshirt with a brushed interior.", ("Grey marl", "Black")),
            P("0706-301", "Textured Overshirt", "Men", 4990,
              "Relaxed overshirt with chest patch pockets.", ("Khaki", "Ecru")),
            P("7484-310", "Pleated Trousers", "Men", 5990,
              "Relaxed fit trousers with front pleats.", ("Black", "Navy")),
            P("4388-010", "Quilted Shoulder Bag", "Accessories", 3590,
              "Quilted shoulder bag with a chain strap."),
            P("0110-PERF", "Red Temptation Eau de Parfum 80 mL", "Fragrance", 2990,
              "Amber, jasmine and praline fragrance."),
        ],
    },
    {
        "name": "Macy's",
        "slug": "macys",
        "website": "https://www.macys.com",
        "prefix": "MCY",
        "products": [
            P("LEV-501", "Levi's 501 Original Fit Jeans", "Men", 7950,
              "The original button-fly straight-leg jean.", ("Medium Stonewash", "Black")),
            P("PRL-POLO", "Polo Ralph Lauren Classic Fit Mesh Polo Shirt", "Men", 9850,
              "The iconic cotton mesh polo with the embroidered pony.", ("Navy", "White")),
            P("CK-BB3", "Calvin Klein Cotton Stretch Boxer Briefs, 3-Pack", "Men", 4250,
              "Soft stretch cotton with the logo waistband."),
            P("MK-JETSET", "Michael Kors Jet Set Large Saffiano Leather Tote", "Handbags", 39800,
              "Structured tote in scratch-resistant saffiano leather.", ("Black", "Luggage"), 2),
            P("COACH-TAB", "COACH Tabby Shoulder Bag 26", "Handbags", 45000,
              "Polished pebble leather with the Signature hardware.", (), 2),
            P("FOS-GRANT", "Fossil Grant Chronograph Brown Leather Watch 44mm", "Watches", 16500,
              "Roman numeral dial and a chronograph on a leather strap."),
            P("MK-LEX", "Michael Kors Lexington Gold-Tone Stainless Steel Watch 38mm", "Watches",
              27500, "Pavé bezel and a three-link bracelet."),
            P("HC-TOWEL", "Hotel Collection Turkish Cotton Bath Towel", "Home", 2400,
              "Plush, absorbent Turkish cotton.", ("White", "Dove Grey")),
            P("CC-CASH", "Charter Club Women's 100% Cashmere Crewneck Sweater", "Women", 9900,
              "Classic crewneck in soft cashmere.", ("Navy", "Camel")),
            P("INC-WIDE", "I.N.C. International Concepts Wide-Leg Pants", "Women", 6950,
              "High-rise wide-leg pants with a fluid drape."),
            P("LAUREN-WRAP", "Lauren Ralph Lauren Faux-Wrap Jersey Dress", "Women", 14500,
              "Stretch jersey dress with a surplice neckline."),
            P("LANC-GEN", "Lancôme Advanced Génifique Face Serum 50 mL", "Beauty", 11500,
              "Daily serum with pre- and probiotic fractions."),
            P("CLIN-MS", "Clinique Moisture Surge 100H Auto-Replenishing Hydrator", "Beauty", 4600,
              "Oil-free gel-cream for 100 hours of hydration."),
            P("EL-ANR", "Estée Lauder Advanced Night Repair Serum 50 mL", "Beauty", 11500,
              "Overnight repair serum for smoother, younger-looking skin."),
            P("MS-DUTCH6", "Martha Stewart Enameled Cast Iron 6-Qt. Dutch Oven", "Kitchen", 7999,
              "Even heating for braises, stews and bread.", (), 3),
            P("CUIS-14", "Cuisinart 14-Cup Programmable Coffeemaker", "Kitchen", 9995,
              "Brew-strength control and a 24-hour programmable timer.", (), 2),
            P("TH-BELT", "Tommy Hilfiger Men's Reversible Leather Belt", "Men", 4950,
              "Black to brown reversible belt with a rotating buckle."),
            P("TH-QZIP", "Tommy Hilfiger Men's Quarter-Zip Sweater", "Men", 8950,
              "Cotton quarter-zip with the flag logo.", ("Navy", "Grey Heather")),
            P("KC-DUFFEL", "Kenneth Cole Reaction Weekender Duffel Bag", "Luggage", 9900,
              "Roomy weekender with a padded shoulder strap.", (), 2),
            P("SAM-FF21", "Samsonite Freeform 21\" Carry-On Spinner", "Luggage", 23000,
              "Lightweight expandable hardside carry-on.", (), 4),
        ],
    },
    {
        "name": "Lululemon",
        "slug": "lululemon",
        "website": "https://shop.lululemon.com",
        "prefix": "LLL",
        "products": [
            P("LW5CT3S", "Align High-Rise Pant 25\"", "Women", 9800,
              "Buttery-soft Nulu fabric with a weightless feel.",
              ("Black", "True Navy", "Heathered Grey")),
            P("LW4BPKS", "Define Jacket Nulu", "Women", 11800,
              "Fitted jacket with thumbholes and a zippered pocket.", ("Black", "Bone")),
            P("LW3DM4S", "Scuba Oversized Full-Zip Hoodie", "Women", 11800,
              "Cotton-blend fleece hoodie with a kangaroo pocket.",
              ("Heathered Light Grey", "Black")),
            P("LM5AL2S", "ABC Classic-Fit Trouser 32\" Warpstreme", "Men", 12800,
              "Anti-ball-crushing trouser with four-way stretch.", ("Black", "Obsidian")),
            P("LM3DWUS", "Metal Vent Tech Short-Sleeve Shirt", "Men", 7800,
              "Anti-stink training tee with mesh ventilation.", ("Black", "White")),
            P("LU9B78S", "Everywhere Belt Bag 1L", "Accessories", 3800,
              "Hands-free bag with an adjustable strap.", ("Black", "White Opal", "Espresso")),
            P("LM7AQNS", "Pace Breaker Linerless Short 7\"", "Men", 6800,
              "Lightweight training short with a hidden waistband pocket."),
            P("LW3HWRS", "Swiftly Tech Long-Sleeve Shirt 2.0", "Women", 7800,
              "Seamless running top with anti-stink technology.", ("Black", "White")),
            P("LW5DQLS", "Wunder Train High-Rise Tight 25\"", "Women", 9800,
              "Supportive, sweat-wicking training tight."),
            P("LW5EGHS", "Fast and Free High-Rise Tight 25\"", "Women", 12800,
              "Lightweight running tight with drop-in pockets."),
            P("LW2CY9S", "Energy Bra Medium Support", "Women", 5800,
              "Strappy-back sports bra for training.", ("Black", "White")),
            P("LW5FBRS", "Softstreme High-Rise Pant", "Women", 11800,
              "Relaxed wide-leg pant in a peachy-soft fabric."),
            P("LU9AXNS", "The Mat 5mm Made With FSC-Certified Rubber", "Yoga", 10800,
              "Grippy, cushioned yoga mat with a polyurethane top layer.", (), 2),
            P("LU9AS9S", "Back to Life Sports Bottle 24 oz", "Accessories", 3800,
              "Insulated stainless steel bottle with a chug lid."),
            P("LU9C01S", "Daily Stride Comfort Crew Sock 3 Pack", "Accessories", 3200,
              "Soft, breathable everyday socks."),
        ],
    },
    {
        "name": "Bath & Body Works",
        "slug": "bath-and-body-works",
        "website": "https://www.bathandbodyworks.com",
        "prefix": "BBW",
        "products": [
            P("3WICK", "3-Wick Candle", "Home Fragrance", 2695,
              "Long-lasting candle with three lead-free cotton wicks, 14.5 oz.",
              ("Mahogany Teakwood", "Eucalyptus Spearmint", "Champagne Toast",
               "Sweater Weather", "Aloha Orchid")),
            P("FFM", "Fine Fragrance Mist", "Body Care", 1895,
              "Light, layerable body mist, 8 fl oz.",
              ("A Thousand Wishes", "Champagne Toast", "Japanese Cherry Blossom",
               "Into the Night")),
            P("USBC", "Ultra Shea Body Cream", "Body Care", 1695,
              "Rich body cream with shea butter and 24-hour moisture, 8 oz.",
              ("A Thousand Wishes", "Gingham", "Warm Vanilla Sugar")),
            P("GCFHS", "Gentle & Clean Foaming Hand Soap", "Hand Soap", 795,
              "Cleans without drying, 8.75 fl oz.",
              ("Kitchen Lemon", "Sweet Pea", "Eucalyptus Spearmint")),
            P("WFR", "Wallflowers Fragrance Refill", "Home Fragrance", 795,
              "Plug-in fragrance refill that lasts four to six weeks.",
              ("Mahogany Teakwood", "Fresh Balsam")),
            P("SG", "Shower Gel", "Body Care", 1495,
              "Moisturizing shower gel with shea butter and vitamin E, 10 fl oz.",
              ("Gingham", "Sweet Pea")),
            P("PBAC5", "PocketBac Hand Sanitizer 5-Pack", "Hand Soap", 895,
              "Five travel-size hand sanitizers in assorted scents."),
            P("1WICK", "Single Wick Candle", "Home Fragrance", 1695,
              "Classic single wick candle, 8 oz.", ("Eucalyptus Spearmint", "Sweater Weather")),
            P("AROMA-SR", "Aromatherapy Stress Relief Eucalyptus Spearmint Body Lotion",
              "Body Care", 1795, "Body lotion with eucalyptus and spearmint essential oils."),
            P("MEN-TEAK", "Men's Teakwood 3-in-1 Hair, Face & Body Wash", "Men's", 1695,
              "One wash for hair, face and body, 10 fl oz."),
        ],
    },
    {
        "name": "Foot Locker",
        "slug": "foot-locker",
        "website": "https://www.footlocker.com",
        "prefix": "FTL",
        "products": [
            P("NK-AMPLUS", "Nike Air Max Plus Men's", "Sneakers", 18000,
              "Tuned Air cushioning with the wavy TPU cage.", ("Black/Black", "White/Blue")),
            P("JD-RET4", "Jordan Retro 4 Men's", "Sneakers", 21500,
              "Mesh panels, wing eyelets and visible Air in the heel.", ("White Cement",)),
            P("AD-SAMBA", "adidas Originals Samba OG", "Sneakers", 10000,
              "The terrace classic with a gum sole.", ("White/Black", "Black/White")),
            P("NB-550", "New Balance 550", "Sneakers", 11000,
              "80s basketball-inspired leather low-top.", ("White/Green", "White/Grey")),
            P("CV-CTAS-HI", "Converse Chuck Taylor All Star High Top", "Sneakers", 6500,
              "Canvas high-top with the iconic ankle patch.", ("Black", "Optical White")),
            P("CR-CLASSIC", "Crocs Classic Clog", "Sandals", 4999,
              "Lightweight Croslite clog with pivoting heel straps.", ("Black", "White")),
            P("UGG-TASMAN", "UGG Tasman Slipper", "Casual", 12000,
              "Suede slipper with a braided collar.", ("Chestnut",)),
            P("NK-AM270", "Nike Air Max 270 Men's", "Sneakers", 16000,
              "The tallest Air unit yet for all-day comfort."),
            P("PM-SUEDE", "PUMA Suede Classic", "Sneakers", 7500,
              "Soft suede upper on a rubber cupsole."),
            P("TB-6IN", "Timberland 6\" Premium Waterproof Boots", "Boots", 19800,
              "Waterproof nubuck boots with padded collars.", ("Wheat Nubuck",), 2),
            P("NK-CLUBJOG", "Nike Club Fleece Joggers", "Apparel", 6000,
              "Brushed fleece joggers with a cuffed hem."),
            P("JD-ESSHOOD", "Jordan Essentials Fleece Hoodie", "Apparel", 7000,
              "Soft fleece hoodie with the Jumpman logo."),
            P("CP-SPRAY", "Crep Protect Sneaker Protector Spray", "Accessories", 1800,
              "Rain and stain shield for sneakers."),
            P("AS-GEL1130", "ASICS GEL-1130", "Sneakers", 10000,
              "Late-2000s running style with GEL cushioning.", ("White/Pure Silver",)),
            P("HK-CLIFTON9", "HOKA Clifton 9 Men's", "Running", 14500,
              "Lighter, more cushioned everyday running shoe.", ("Black/White",)),
        ],
    },
    {
        "name": "Victoria's Secret",
        "slug": "victorias-secret",
        "website": "https://www.victoriassecret.com",
        "prefix": "VS",
        "products": [
            P("VSX-PU", "Very Sexy Push-Up Bra", "Bras", 5995,
              "Plunge push-up bra with adds-a-cup padding.", ("Black", "Nude")),
            P("BBV-DEMI", "Body by Victoria Lightly Lined Demi Bra", "Bras", 5495,
              "Smooth, lightly lined cups with a demi neckline.", ("Black", "Sweet Praline")),
            P("BOMB-EDP50", "Bombshell Eau de Parfum 50 mL", "Fragrance", 7500,
              "Purple passion fruit, peony and vanilla orchid."),
            P("TEASE-EDP50", "Tease Eau de Parfum 50 mL", "Fragrance", 7500,
              "Black vanilla, pear and gardenia."),
            P("FFM250", "Fine Fragrance Mist 250 mL", "Fragrance", 2295,
              "Light, layerable all-over body mist.",
              ("Bare Vanilla", "Pure Seduction", "Love Spell", "Velvet Petals")),
            P("FFL236", "Fragrance Lotion 236 mL", "Body Care", 2295,
              "Moisturizing body lotion scented to match the mists.",
              ("Bare Vanilla", "Pure Seduction")),
            P("COT-CHEEKY", "Cotton Cheeky Panty", "Panties", 1250,
              "Soft stretch cotton with a cheeky cut.", ("Black", "Pink Dot")),
            P("MOD-PJ", "Modal Long Pajama Set", "Sleep", 6995,
              "Buttery-soft modal top and pant.", ("Heather Grey", "Black")),
            P("PINK-SWEAT", "PINK Everyday Fleece Classic Sweatpant", "PINK", 4995,
              "Relaxed sweatpant in soft fleece.", ("Heather Charcoal", "Black")),
            P("PINK-WEPU", "PINK Wear Everywhere Push-Up Bra", "PINK", 4495,
              "Everyday push-up bra with smooth cups."),
            P("SATIN-CAMI", "Satin Cami Pajama Set", "Sleep", 5995,
              "Satin cami and short set with lace trim."),
            P("PLUSH-ROBE", "Cozy Plush Long Robe", "Sleep", 7995,
              "Ultra-soft plush robe with a tie waist.", (), 2),
        ],
    },
    {
        "name": "Uniqlo",
        "slug": "uniqlo",
        "website": "https://www.uniqlo.com/us/en/",
        "prefix": "UNQ",
        "products": [
            P("465185", "AIRism Cotton Crew Neck Oversized T-Shirt", "Men", 1990,
              "Cotton look with the cool, smooth feel of AIRism.", ("White", "Black", "Navy")),
            P("469869", "Ultra Light Down Jacket", "Women", 7990,
              "Warm, lightweight down that packs into its own pouch.",
              ("Black", "Navy", "Olive")),
            P("460305", "HEATTECH Crew Neck T-Shirt", "Men", 1490,
              "Heat-generating base layer.", ("Black", "White")),
            P("455359", "Supima Cotton Crew Neck T-Shirt", "Women", 1490,
              "Smooth premium Supima cotton in a classic fit.", ("White", "Gray")),
            P("461053", "Round Mini Shoulder Bag", "Accessories", 1990,
              "Water-repellent mini bag that holds all the essentials.",
              ("Black", "Beige", "Olive")),
            P("464776", "Wide Straight Jeans", "Women", 4990,
              "Relaxed wide straight jeans with a high rise.", ("Blue", "Off White")),
            P("466294", "Smart Ankle Pants 2-Way Stretch", "Men", 4990,
              "Stretchy, crease-resistant chinos for work and weekends.", ("Black", "Navy")),
            P("470062", "Sweat Pullover Hoodie", "Men", 3990,
              "Soft, durable sweatshirt fabric with a structured hood.", ("Gray", "Black")),
            P("450535", "Extra Fine Merino Crew Neck Sweater", "Women", 3990,
              "Washable merino wool in a classic crew neck.", ("Navy", "Beige")),
            P("467247", "Linen Blend Relaxed Shirt", "Men", 2990,
              "Breathable linen-cotton shirt for warm days."),
            P("465781", "Pocketable UV Protection Parka", "Women", 4990,
              "Lightweight, UPF 50+ parka that folds into a pocket."),
            P("468544", "Sweat Wide Pants", "Women", 3990,
              "Easy wide-leg sweatpants with a drawstring."),
        ],
    },
    {
        "name": "LEGO",
        "slug": "lego",
        "website": "https://www.lego.com/en-us",
        "prefix": "LGO",
        "products": [
            P("10311", "LEGO Botanicals Orchid 10311", "Botanicals", 4999,
              "A buildable orchid for display, 608 pieces."),
            P("10328", "LEGO Botanicals Bouquet of Roses 10328", "Botanicals", 5999,
              "A dozen adjustable roses, 822 pieces."),
            P("10313", "LEGO Icons Wildflower Bouquet 10313", "Botanicals", 5999,
              "Poppies, lavender and cornflowers to build, 939 pieces."),
            P("10318", "LEGO Icons Concorde 10318", "Icons", 19999,
              "A detailed model of the supersonic airliner, 2,083 pieces.", (), 2),
            P("42207", "LEGO Technic Ferrari SF-24 F1 Car 42207", "Technic", 21999,
              "1:8 scale Formula 1 car with steering and a V6 engine, 1,361 pieces.", (), 2),
            P("75375", "LEGO Star Wars Millennium Falcon 75375", "Star Wars", 8499,
              "Midi-scale Millennium Falcon for display, 921 pieces."),
            P("76419", "LEGO Harry Potter Hogwarts Castle and Grounds 76419", "Harry Potter",
              16999, "Microscale Hogwarts with the grounds, 2,660 pieces.", (), 2),
            P("31129", "LEGO Creator 3in1 Majestic Tiger 31129", "Creator", 4999,
              "Build a tiger, a panda or a koi fish, 755 pieces."),
            P("60316", "LEGO City Police Station 60316", "City", 9999,
              "Police station with a jail cell, truck and motorcycle, 668 pieces.", (), 2),
            P("42652", "LEGO Friends Friendship Tree House Hangout 42652", "Friends", 6999,
              "A tree house with a slide and a zip line, 1,114 pieces."),
            P("21349", "LEGO Ideas Tuxedo Cat 21349", "Ideas", 9999,
              "A life-size tuxedo cat with posable head and tail, 1,710 pieces."),
            P("21345", "LEGO Ideas Polaroid OneStep SX-70 Camera 21345", "Ideas", 7999,
              "A brick-built classic instant camera, 516 pieces."),
            P("21249", "LEGO Minecraft The Crafting Box 4.0 21249", "Minecraft", 9999,
              "Build and rebuild Minecraft scenes, 605 pieces."),
            P("76916", "LEGO Speed Champions Porsche 963 76916", "Speed Champions", 2499,
              "The Porsche 963 race car with a driver minifigure, 280 pieces."),
            P("43249", "LEGO Disney Stitch 43249", "Disney", 6499,
              "A buildable Stitch with movable ears, 730 pieces."),
            P("10954", "LEGO DUPLO Number Train 10954", "DUPLO", 2999,
              "Learn to count with a train for toddlers, 23 pieces."),
            P("10698", "LEGO Classic Large Creative Brick Box 10698", "Classic", 5999,
              "790 bricks in 33 colours in a storage box.", (), 2),
            P("21044", "LEGO Architecture Paris 21044", "Architecture", 4999,
              "The Eiffel Tower, the Louvre and the Champs-Élysées, 649 pieces."),
        ],
    },
]  # fmt: skip


def variant_code(variant: str) -> str:
    """'Black' -> 'BLA', 'Black/White' -> 'BLWH', '001 Pink' -> '001PI': short SKU suffixes."""
    words = re.findall(r"[A-Za-z0-9]+", variant)
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(w[:3].upper() if w.isdigit() else w[:2].upper() for w in words[:4])


def catalog(retailer: dict) -> Iterator[dict]:
    """The retailer's products, one dict per SKU, ready for `Product(**fields)`."""
    for item in retailer["products"]:
        base = f"{retailer['prefix']}-{item.code}"
        codes: set[str] = set()
        for variant in item.variants or (None,):
            code = variant_code(variant) if variant else ""
            while code in codes:  # two variants that abbreviate alike
                code += "X"
            codes.add(code)
            yield {
                "sku": f"{base}-{code}" if variant else base,
                "title": f"{item.title} – {variant}" if variant else item.title,
                "description": item.description,
                "price_cents": item.price_cents,
                "category": item.category,
                "bags": item.bags,
            }


# --- Stores ---------------------------------------------------------------------------

# Mall-like hours per weekday (Monday = 0): Monday–Saturday 10–21, Sunday 11–19; department
# stores stay open later on Friday and Saturday.
MALL_HOURS = {d: (dt.time(10), dt.time(21)) for d in range(6)} | {6: (dt.time(11), dt.time(19))}
DEPARTMENT_HOURS = MALL_HOURS | {
    4: (dt.time(10), dt.time(22)),
    5: (dt.time(10), dt.time(22)),
    6: (dt.time(11), dt.time(20)),
}


class S(NamedTuple):
    retailer: str
    location: str
    phone: str
    prep_minutes: int


STORES: dict[str, list[S]] = {
    LV: [
        S("sephora", "Level 1, Center Court, across from Nordstrom", "+17025550110", 12),
        S("apple", "Level 1, near Neiman Marcus", "+17025550111", 10),
        S("zara", "Level 1 and 2, The Strip entrance", "+17025550112", 15),
        S("h-and-m", "Level 2, near the Food Court", "+17025550113", 15),
        S("macys", "Anchor, Level 1 Customer Service", "+17025550114", 25),
        S("lululemon", "Level 1, between Nordstrom and Dillard's", "+17025550115", 12),
        S("bath-and-body-works", "Level 1, near Macy's", "+17025550116", 10),
        S("foot-locker", "Level 2, near Dick's Sporting Goods", "+17025550117", 12),
        S("victorias-secret", "Level 1, Center Court", "+17025550118", 15),
    ],
    TYSONS: [
        S("apple", "Plaza level, next to Bloomingdale's", "+17035550120", 10),
        S("sephora", "Level 1, near Nordstrom", "+17035550121", 12),
        S("uniqlo", "Level 1, near Bloomingdale's", "+17035550122", 15),
        S("zara", "Level 1, Fashion Court", "+17035550123", 15),
        S("h-and-m", "Level 2, next to L.L.Bean", "+17035550124", 15),
        S("lululemon", "Plaza level, near the Metro walkway", "+17035550125", 12),
        S("lego", "Level 1, near Macy's", "+17035550126", 10),
        S("macys", "Anchor, Level 1 Customer Service", "+17035550127", 25),
        S("victorias-secret", "Level 1, Fountain Court", "+17035550128", 15),
    ],
    GALLERIA: [
        S("apple", "Galleria I, Level 1, near the ice rink", "+17135550130", 10),
        S("nike", "Galleria II, Level 1", "+17135550131", 12),
        S("sephora", "Galleria II, Level 2, near Nordstrom", "+17135550132", 12),
        S("zara", "Galleria I, Level 1", "+17135550133", 15),
        S("h-and-m", "Galleria III, Level 2", "+17135550134", 15),
        S("uniqlo", "Galleria II, Level 1, near Saks Fifth Avenue", "+17135550135", 15),
        S("lego", "Galleria I, Level 2", "+17135550136", 10),
        S("macys", "Anchor, Galleria III Customer Service", "+17135550137", 25),
        S("bath-and-body-works", "Galleria III, Level 1", "+17135550138", 10),
        S("foot-locker", "Galleria II, Level 3", "+17135550139", 12),
    ],
}

DEPARTMENT_STORES = {"macys"}

# One manager per store (the demo `store` login manages Sephora at two malls instead).
STAFF_NAMES = [
    ("Karen", "Whitfield"), ("Luis", "Ortega"), ("Megan", "Doyle"), ("Andre", "Price"),
    ("Tasha", "Greene"), ("Brian", "Koh"), ("Nicole", "Sandoval"), ("Omar", "Haddad"),
    ("Jessica", "Lund"), ("Victor", "Ramos"), ("Rachel", "Stein"), ("Terrence", "Hall"),
    ("Alicia", "Moreno"), ("Peter", "Vance"), ("Danielle", "Okafor"), ("Steven", "Cho"),
    ("Monica", "Ruiz"), ("Gabriel", "Silva"), ("Heather", "Cole"), ("Isaac", "Weber"),
    ("Lauren", "Pratt"), ("Tyrone", "Banks"), ("Erin", "Gallagher"), ("Felix", "Duarte"),
    ("Natalie", "Voss"), ("Jamal", "Wright"), ("Courtney", "Ames"), ("Hector", "Villa"),
    ("Yuki", "Tanaka"), ("Sandra", "Pierce"),
]  # fmt: skip

# --- People ---------------------------------------------------------------------------

DEMO_USERS = {
    "shopper": {"first_name": "Maya", "last_name": "Rodriguez"},
    "store": {"first_name": "Dana", "last_name": "Whitaker"},
    "driver": {"first_name": "Jordan", "last_name": "Reyes"},
    "ops": {"first_name": "Olivia", "last_name": "Grant"},
}


class A(NamedTuple):
    label: str
    line1: str
    line2: str
    city: str
    state: str
    zip_code: str
    latitude: float
    longitude: float
    instructions: str = ""


class Person(NamedTuple):
    username: str
    first_name: str
    last_name: str
    phone: str
    addresses: tuple[A, ...] = ()


SHOPPERS: dict[str, list[Person]] = {
    LV: [
        Person("shopper", "Maya", "Rodriguez", "+17025550134", (
            A("Home", "3111 Bel Air Dr", "Unit 12B", "Las Vegas", "NV", "89109",
              36.1380, -115.1530, "Front desk accepts packages; give them the PIN."),
            A("Work", "3960 Howard Hughes Pkwy", "Suite 500", "Las Vegas", "NV", "89169",
              36.1155, -115.1525, "Reception on the 5th floor."),
        )),
        Person("devon.harris", "Devon", "Harris", "+17025550141", (
            A("Home", "4525 Dean Martin Dr", "Apt 1406", "Las Vegas", "NV", "89103",
              36.1087, -115.1791, "Call from the lobby; residents only in the elevators."),
        )),
        Person("emily.chen", "Emily", "Chen", "+17025550142", (
            A("Home", "2877 Paradise Rd", "Apt 2803", "Las Vegas", "NV", "89109",
              36.1392, -115.1548),
        )),
        Person("marcus.johnson", "Marcus", "Johnson", "+17025550143", (
            A("Home", "3550 S Arville St", "", "Las Vegas", "NV", "89103",
              36.1262, -115.1958, "Side gate, leave by the door if no answer."),
        )),
        Person("priya.patel", "Priya", "Patel", "+17025550144", (
            A("Home", "2600 S Eastern Ave", "Apt 118", "Las Vegas", "NV", "89169",
              36.1418, -115.1195),
        )),
    ],
    TYSONS: [
        Person("olivia.bennett", "Olivia", "Bennett", "+17035550151", (
            A("Home", "8220 Crestwood Heights Dr", "Apt 1015", "McLean", "VA", "22102",
              38.9283, -77.2291, "Concierge desk in the main lobby."),
        )),
        Person("james.whitaker", "James", "Whitaker", "+17035550152", (
            A("Home", "8350 Greensboro Dr", "Unit 804", "McLean", "VA", "22102",
              38.9242, -77.2348),
        )),
        Person("aisha.rahman", "Aisha", "Rahman", "+17035550153", (
            A("Home", "7420 Idylwood Rd", "", "Falls Church", "VA", "22043",
              38.8985, -77.2062, "Ring the bell, the dog barks but is friendly."),
        )),
        Person("daniel.park", "Daniel", "Park", "+17035550154", (
            A("Home", "1950 Old Gallows Rd", "Apt 612", "Vienna", "VA", "22182",
              38.9163, -77.2287),
        )),
        Person("grace.liu", "Grace", "Liu", "+17035550155", (
            A("Home", "1355 Beverly Rd", "", "McLean", "VA", "22101",
              38.9338, -77.1782),
        )),
    ],
    GALLERIA: [
        Person("jasmine.washington", "Jasmine", "Washington", "+17135550161", (
            A("Home", "4800 Woodway Dr", "Apt 1402", "Houston", "TX", "77056",
              29.7603, -95.4589, "Gate code 4471, building C."),
        )),
        Person("ryan.mitchell", "Ryan", "Mitchell", "+17135550162", (
            A("Home", "2727 Kirby Dr", "Unit 19L", "Houston", "TX", "77098",
              29.7421, -95.4186, "Leave with the doorman."),
        )),
        Person("sofia.hernandez", "Sofia", "Hernandez", "+17135550163", (
            A("Home", "5600 San Felipe St", "Apt 3109", "Houston", "TX", "77056",
              29.7502, -95.4787),
        )),
        Person("nathan.brooks", "Nathan", "Brooks", "+17135550164", (
            A("Home", "3333 Bering Dr", "Apt 210", "Houston", "TX", "77057",
              29.7397, -95.4731),
        )),
        Person("mei.lin", "Mei", "Lin", "+17135550165", (
            A("Home", "4500 Bissonnet St", "", "Bellaire", "TX", "77401",
              29.7191, -95.4601, "Back door by the garage."),
        )),
    ],
}  # fmt: skip


class D(NamedTuple):
    username: str
    first_name: str
    last_name: str
    phone: str
    vehicle: str
    capacity_bags: int
    plate: str
    status: str = "approved"  # approved, pending, suspended, rejected
    reason: str = ""
    online: bool = True


# Per mall, the approved drivers come first in the order dispatch in the demo uses them.
DRIVERS: dict[str, list[D]] = {
    LV: [
        D("driver", "Jordan", "Reyes", "+17025550170", "car", 12, "NV 4TR-819"),
        D("aaliyah.turner", "Aaliyah", "Turner", "+17025550171", "suv", 18, "NV 7KX-204"),
        D("kevin.nguyen", "Kevin", "Nguyen", "+17025550172", "car", 12, "NV 2HM-557"),
        D("derek.olsen", "Derek", "Olsen", "+17025550173", "van", 30, "NV 9VN-331"),
        D("sofia.alvarez", "Sofia", "Alvarez", "+17025550174", "scooter", 4, "NV 1SC-770"),
        D("tyler.brooks", "Tyler", "Brooks", "+17025550175", "car", 12, "NV 5PL-142",
          "rejected", "Motor vehicle record check did not pass.", False),
    ],
    TYSONS: [
        D("priya.shah", "Priya", "Shah", "+17035550180", "car", 12, "VA UXR-4821"),
        D("michael.oconnor", "Michael", "O'Connor", "+17035550181", "suv", 18, "VA TKB-2297"),
        D("hannah.kim", "Hannah", "Kim", "+17035550182", "car", 12, "VA ULM-7310"),
        D("samuel.mensah", "Samuel", "Mensah", "+17035550183", "car", 12, "VA TZD-5564"),
        D("wei.zhang", "Wei", "Zhang", "+17035550184", "car", 12, "VA UBC-9021",
          online=False),
        D("ethan.walsh", "Ethan", "Walsh", "+17035550185", "car", 12, "VA TPF-6605",
          "pending", "", False),
    ],
    GALLERIA: [
        D("carlos.mendoza", "Carlos", "Mendoza", "+17135550190", "suv", 18, "TX RKD-4412"),
        D("brittany.johnson", "Brittany", "Johnson", "+17135550191", "car", 12, "TX PLM-8830"),
        D("deshawn.carter", "DeShawn", "Carter", "+17135550192", "car", 12, "TX NVX-2275"),
        D("linh.tran", "Linh", "Tran", "+17135550193", "car", 12, "TX SBR-6104"),
        D("ryan.foster", "Ryan", "Foster", "+17135550194", "car", 12, "TX MDT-3391",
          "suspended", "Insurance card expired; upload a current one to be reinstated.",
          False),
    ],
}  # fmt: skip

# Blocks for the coming days, in mall-local time: (start, end, slots, guaranteed pay).
BLOCK_SHIFTS = [
    (dt.time(10), dt.time(14), 4, 7200),
    (dt.time(14), dt.time(18), 5, 8000),
    (dt.time(17), dt.time(21), 4, 8400),
]
BLOCK_DAYS = 3

# Why things go wrong, in people's words.
REJECT_REASONS = [
    "Last unit was damaged on the shelf; no other stock in store.",
    "Inventory count was off: the item isn't in the store.",
    "Shade is discontinued and was pulled from the floor this morning.",
]
CANCEL_REASONS_SHOPPER = [
    "Ordered the wrong size.",
    "Found it somewhere else.",
    "Plans changed, I won't be home today.",
]
CANCEL_REASON_STORE = "Couldn't find the item while picking; count was wrong."
CANCEL_REASON_OPS = "Shopper called support: no longer needed."
FAIL_REASONS = [
    "No answer at the door; called the shopper twice and waited 10 minutes.",
    "Gate code didn't work and the shopper didn't pick up.",
    "Building is locked and the concierge refused the package.",
]
RETURN_NOTE = "Back at the counter, seal intact; items returned to the shelf."
DECLINE_REASON = "Too far from me right now."

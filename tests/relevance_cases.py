"""A fixed corpus of realistic (fictional) Thai agency datasets and the queries that must rank a
given dataset in the top 3. Used by tests/test_search_relevance.py for every backend.

Organisations are fictional or generic; titles follow the way Thai agencies name datasets
(ข้อบัญญัติ/เทศบัญญัติงบประมาณ, e-GP procurement, รพ.สต., BE fiscal years, Thai digits).
"""

from __future__ import annotations

from datetime import UTC, datetime

from search.documents import SearchDocument

# name -> (Thai title, English title, parents)
# fmt: off
ORGS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "pao-chiangmai": ("องค์การบริหารส่วนจังหวัดเชียงใหม่", "Chiang Mai Provincial Administrative Organization", ("dla",)),
    "pao-khonkaen": ("องค์การบริหารส่วนจังหวัดขอนแก่น", "Khon Kaen Provincial Administrative Organization", ("dla",)),
    "pao-nakhonratchasima": ("องค์การบริหารส่วนจังหวัดนครราชสีมา", "Nakhon Ratchasima Provincial Administrative Organization", ("dla",)),
    "sao-nongbua": ("องค์การบริหารส่วนตำบลหนองบัว", "Nong Bua Subdistrict Administrative Organization", ("dla",)),
    "sao-banmai": ("องค์การบริหารส่วนตำบลบ้านใหม่ อำเภอพระนครศรีอยุธยา", "Ban Mai Subdistrict Administrative Organization, Ayutthaya", ("dla",)),
    "khonkaen-city": ("เทศบาลนครขอนแก่น", "Khon Kaen City Municipality", ("dla",)),
    "korat-city": ("เทศบาลนครนครราชสีมา", "Nakhon Ratchasima City Municipality", ("dla",)),
    "thathong-town": ("เทศบาลเมืองท่าทอง", "Tha Thong Town Municipality", ("dla",)),
    "donkaeo-tm": ("เทศบาลตำบลดอนแก้ว", "Don Kaeo Subdistrict Municipality", ("dla",)),
    "bma": ("กรุงเทพมหานคร", "Bangkok Metropolitan Administration", ()),
    "mof": ("กระทรวงการคลัง", "Ministry of Finance", ()),
    "cgd": ("กรมบัญชีกลาง", "Comptroller General's Department", ("mof",)),
    "bb": ("สำนักงบประมาณ", "Bureau of the Budget", ()),
    "drr": ("กรมทางหลวงชนบท", "Department of Rural Roads", ()),
    "moph": ("กระทรวงสาธารณสุข", "Ministry of Public Health", ()),
    "nso": ("สำนักงานสถิติแห่งชาติ", "National Statistical Office", ()),
    "parliament": ("สำนักงานเลขาธิการสภาผู้แทนราษฎร", "Secretariat of the House of Representatives", ()),
    "tmd": ("กรมอุตุนิยมวิทยา", "Thai Meteorological Department", ()),
    "pcd": ("กรมควบคุมมลพิษ", "Pollution Control Department", ()),
    "dla": ("กรมส่งเสริมการปกครองท้องถิ่น", "Department of Local Administration", ()),
}

# (name, organisation, Thai title, English title, Thai notes, tags, fiscal years, formats)
DATASETS: list[tuple[str, str, str, str, str, tuple[str, ...], tuple[int, ...], tuple[str, ...]]] = [
    ("pao-cm-budget-2567", "pao-chiangmai", "ข้อบัญญัติงบประมาณรายจ่ายประจำปีงบประมาณ พ.ศ. 2567 อบจ.เชียงใหม่", "Chiang Mai PAO annual budget ordinance FY2024", "รายละเอียดงบประมาณรายจ่ายจำแนกตามแผนงาน งบบุคลากร งบดำเนินงาน งบลงทุน", ("งบประมาณ", "ข้อบัญญัติ"), (2567,), ("XLSX", "PDF")),
    ("pao-cm-budget-2566", "pao-chiangmai", "ข้อบัญญัติงบประมาณรายจ่ายประจำปีงบประมาณ พ.ศ. 2566 อบจ.เชียงใหม่", "Chiang Mai PAO annual budget ordinance FY2023", "งบประมาณรายจ่ายจำแนกตามแผนงานและหมวดรายจ่าย", ("งบประมาณ", "ข้อบัญญัติ"), (2566,), ("XLSX",)),
    ("pao-kk-budget-2567", "pao-khonkaen", "งบประมาณรายจ่ายประจำปี 2567 องค์การบริหารส่วนจังหวัดขอนแก่น", "Khon Kaen PAO budget FY2024", "ข้อมูลงบประมาณรายจ่ายของ อบจ.ขอนแก่น แยกตามยุทธศาสตร์", ("งบประมาณ",), (2567,), ("CSV",)),
    ("pao-korat-procurement-2566", "pao-nakhonratchasima", "แผนการจัดซื้อจัดจ้าง ประจำปีงบประมาณ 2566", "Procurement plan FY2023", "แผนการจัดซื้อจัดจ้างของ อบจ.นครราชสีมา ตามพระราชบัญญัติการจัดซื้อจัดจ้างและการบริหารพัสดุภาครัฐ", ("จัดซื้อจัดจ้าง", "แผนงาน"), (2566,), ("CSV", "PDF")),
    ("sao-nongbua-road-progress", "sao-nongbua", "รายงานความก้าวหน้าโครงการก่อสร้างถนนคอนกรีตเสริมเหล็ก หมู่ที่ 5", "Progress of the reinforced concrete road construction project, Moo 5", "ผลการดำเนินงานและการเบิกจ่ายโครงการก่อสร้างถนน คสล. สายบ้านหนองบัว-บ้านโนนสูง", ("โครงสร้างพื้นฐาน", "ถนน"), (2567,), ("CSV",)),
    ("sao-nongbua-ordinance-2567", "sao-nongbua", "ข้อบัญญัติงบประมาณรายจ่ายประจำปี 2567 อบต.หนองบัว", "Nong Bua SAO budget ordinance FY2024", "ข้อบัญญัติงบประมาณรายจ่ายที่ผ่านสภา อบต.", ("งบประมาณ", "ข้อบัญญัติ"), (2567,), ("PDF",)),
    ("sao-banmai-elderly", "sao-banmai", "ผู้สูงอายุที่ได้รับเบี้ยยังชีพ", "Elderly living allowance recipients", "จำนวนผู้สูงอายุที่ได้รับเบี้ยยังชีพรายเดือน แยกตามหมู่บ้าน", ("ผู้สูงอายุ", "สวัสดิการ"), (2567,), ("CSV",)),
    ("kk-city-waste", "khonkaen-city", "ปริมาณขยะมูลฝอยรายเดือน", "Monthly solid waste volumes", "ปริมาณขยะมูลฝอยที่เก็บขนได้ในเขตเทศบาล หน่วยเป็นตัน", ("ขยะ", "สิ่งแวดล้อม"), (2566,), ("CSV",)),
    ("kk-city-budget-2568", "khonkaen-city", "เทศบัญญัติงบประมาณรายจ่ายประจำปี ๒๕๖๘", "City budget ordinance FY2025", "เทศบัญญัติงบประมาณรายจ่ายประจำปีงบประมาณ พ.ศ. ๒๕๖๘ ของเทศบาลนครขอนแก่น", ("งบประมาณ", "เทศบัญญัติ"), (2568,), ("PDF",)),
    ("thathong-flood", "thathong-town", "พื้นที่เสี่ยงภัยน้ำท่วม", "Flood risk areas", "ชุมชนที่เคยประสบอุทกภัยและระดับความเสี่ยง", ("สาธารณภัย", "น้ำท่วม"), (), ("SHP", "CSV")),
    ("donkaeo-water", "donkaeo-tm", "ทะเบียนแหล่งน้ำสาธารณะ", "Public water sources register", "แหล่งน้ำ หนองน้ำ ฝาย และบ่อบาดาลสาธารณะในเขตเทศบาล", ("น้ำ",), (), ("CSV",)),
    ("bma-air-pm25", "bma", "คุณภาพอากาศ ฝุ่นละออง PM2.5 รายชั่วโมง", "Hourly PM2.5 air quality", "ค่าฝุ่นละอองขนาดไม่เกิน 2.5 ไมครอน จากสถานีตรวจวัด 50 เขต", ("อากาศ", "ฝุ่น"), (), ("JSON", "CSV")),
    ("bma-budget-2567", "bma", "งบประมาณรายจ่ายประจำปี 2567", "Annual budget FY2024", "ข้อบัญญัติกรุงเทพมหานคร เรื่อง งบประมาณรายจ่ายประจำปี พ.ศ. 2567", ("งบประมาณ",), (2567,), ("XLSX",)),
    ("bma-schools", "bma", "รายชื่อโรงเรียนในสังกัด", "Schools under the administration", "โรงเรียนสังกัดสำนักการศึกษา จำนวนนักเรียนและครู", ("การศึกษา", "โรงเรียน"), (2567,), ("CSV",)),
    ("cgd-egp-contracts-2566", "cgd", "ข้อมูลสัญญาจัดซื้อจัดจ้างภาครัฐ (e-GP) ปีงบประมาณ 2566", "Government procurement contracts (e-GP) FY2023", "สัญญาจากระบบการจัดซื้อจัดจ้างภาครัฐด้วยอิเล็กทรอนิกส์", ("จัดซื้อจัดจ้าง", "e-GP"), (2566,), ("CSV", "JSON")),
    ("bb-budget-act-2567", "bb", "พระราชบัญญัติงบประมาณรายจ่ายประจำปีงบประมาณ พ.ศ. 2567", "Annual Budget Expenditure Act B.E. 2567", "วงเงินงบประมาณตาม พ.ร.บ. แยกตามกระทรวงและหน่วยรับงบประมาณ", ("งบประมาณ", "กฎหมาย"), (2567,), ("CSV", "XLSX")),
    ("bb-budget-bill-2568", "bb", "ร่างพระราชบัญญัติงบประมาณรายจ่ายประจำปีงบประมาณ พ.ศ. 2568", "Draft Annual Budget Bill FY2025", "ร่าง พ.ร.บ. งบประมาณที่เสนอต่อสภาผู้แทนราษฎรในวาระที่หนึ่ง", ("งบประมาณ", "กฎหมาย"), (2568,), ("PDF", "CSV")),
    ("parliament-bills", "parliament", "ร่างกฎหมายที่เสนอต่อสภาผู้แทนราษฎร", "Bills submitted to the House", "สถานะร่างกฎหมาย ผู้เสนอ และวันที่บรรจุระเบียบวาระ", ("กฎหมาย", "รัฐสภา"), (), ("JSON",)),
    ("drr-rural-roads", "drr", "ทะเบียนทางหลวงชนบท", "Rural roads register", "สายทาง ระยะทาง และประเภทผิวจราจรของทางหลวงชนบททั่วประเทศ", ("ถนน", "คมนาคม"), (), ("SHP", "CSV")),
    ("drr-bridge-projects", "drr", "โครงการก่อสร้างสะพานข้ามแม่น้ำ", "Bridge construction projects", "ความคืบหน้าโครงการก่อสร้างสะพาน งบประมาณ และผู้รับจ้าง", ("สะพาน", "โครงสร้างพื้นฐาน"), (2566, 2567), ("CSV",)),
    ("moph-hospitals", "moph", "รายชื่อโรงพยาบาลส่งเสริมสุขภาพตำบล", "Health promoting hospitals", "ที่ตั้ง รพ.สต. ทั่วประเทศ พร้อมพิกัดและเบอร์โทรศัพท์", ("สาธารณสุข", "โรงพยาบาล"), (), ("CSV",)),
    ("moph-dengue", "moph", "ผู้ป่วยโรคไข้เลือดออกรายจังหวัด", "Dengue fever cases by province", "จำนวนผู้ป่วยและผู้เสียชีวิตจากโรคไข้เลือดออก รายสัปดาห์", ("สาธารณสุข", "โรคติดต่อ"), (2566,), ("CSV",)),
    ("nso-population", "nso", "จำนวนประชากรจากการทะเบียนรายจังหวัด", "Registered population by province", "ประชากรแยกตามเพศและจังหวัด ณ วันที่ 31 ธันวาคม", ("ประชากร", "สถิติ"), (2566,), ("CSV", "XLSX")),
    ("nso-labour", "nso", "การสำรวจภาวะการทำงานของประชากร", "Labour force survey", "ผู้มีงานทำ ผู้ว่างงาน รายไตรมาส", ("แรงงาน", "สถิติ"), (2566,), ("XLSX",)),
    ("tmd-rainfall", "tmd", "ปริมาณน้ำฝนรายวัน", "Daily rainfall", "ปริมาณฝนสะสม 24 ชั่วโมง จากสถานีอุตุนิยมวิทยา", ("สภาพอากาศ", "ฝน"), (), ("CSV",)),
    ("pcd-water-quality", "pcd", "คุณภาพน้ำแม่น้ำสายหลัก", "River water quality", "ค่าออกซิเจนละลายน้ำ บีโอดี และแบคทีเรีย จากจุดเก็บตัวอย่าง", ("สิ่งแวดล้อม", "น้ำ"), (2566,), ("CSV",)),
    ("dla-local-revenue", "dla", "รายได้ขององค์กรปกครองส่วนท้องถิ่น", "Local government revenue", "รายได้จัดเก็บเอง รายได้ที่รัฐจัดสรร และเงินอุดหนุน แยกตาม อปท.", ("รายได้", "ท้องถิ่น"), (2566,), ("XLSX",)),
    ("pao-cm-tourism", "pao-chiangmai", "สถานที่ท่องเที่ยวในจังหวัดเชียงใหม่", "Tourist attractions in Chiang Mai", "แหล่งท่องเที่ยวทางธรรมชาติและวัฒนธรรม พร้อมพิกัด", ("ท่องเที่ยว",), (), ("JSON",)),
    ("pao-kk-roads", "pao-khonkaen", "ถนนในความรับผิดชอบ", "Roads under PAO responsibility", "ทะเบียนถนนที่ อบจ.ขอนแก่น รับผิดชอบ ระยะทางและผิวจราจร", ("ถนน",), (), ("SHP",)),
    ("sao-banmai-tax", "sao-banmai", "การจัดเก็บภาษีที่ดินและสิ่งปลูกสร้าง", "Land and building tax collection", "ผลการจัดเก็บภาษีที่ดินและสิ่งปลูกสร้างรายปี", ("ภาษี", "รายได้"), (2566,), ("CSV",)),
    ("korat-city-markets", "korat-city", "ตลาดสดในเขตเทศบาล", "Fresh markets in the city", "รายชื่อตลาดสด จำนวนแผงค้า และวันเปิดทำการ", ("ตลาด",), (), ("CSV",)),
    ("ayutthaya-heritage", "sao-banmai", "โบราณสถานในพื้นที่", "Historic sites in the area", "โบราณสถานและวัดร้างในจังหวัดพระนครศรีอยุธยา", ("วัฒนธรรม", "ท่องเที่ยว"), (), ("CSV",)),
    ("mof-debt", "mof", "หนี้สาธารณะคงค้าง", "Outstanding public debt", "ยอดหนี้สาธารณะคงค้างรายเดือน แยกตามประเภทหนี้", ("การเงินการคลัง", "หนี้"), (2567,), ("XLSX",)),
    ("mof-revenue", "mof", "ผลการจัดเก็บรายได้รัฐบาล", "Government revenue collection", "รายได้ภาษีอากรแยกตามกรมจัดเก็บ", ("รายได้", "ภาษี"), (2567,), ("XLSX",)),
    ("cgd-disbursement-2567", "cgd", "ผลการเบิกจ่ายงบประมาณ ปีงบประมาณ 2567", "Budget disbursement FY2024", "ผลการเบิกจ่ายงบประจำและงบลงทุน แยกตามกระทรวง", ("งบประมาณ", "เบิกจ่าย"), (2567,), ("CSV",)),
    ("kk-city-child-centres", "khonkaen-city", "ศูนย์พัฒนาเด็กเล็ก", "Child development centres", "ที่ตั้งและจำนวนเด็กในศูนย์พัฒนาเด็กเล็กสังกัดเทศบาล", ("การศึกษา", "เด็ก"), (), ("CSV",)),
    ("thathong-streetlights", "thathong-town", "ไฟฟ้าส่องสว่างสาธารณะ", "Public street lights", "จุดติดตั้งโคมไฟฟ้าส่องสว่างและการซ่อมบำรุง", ("ไฟฟ้า", "โครงสร้างพื้นฐาน"), (), ("CSV",)),
    ("donkaeo-procurement-2567", "donkaeo-tm", "ประกาศผลการจัดซื้อจัดจ้าง ปี 2567", "Procurement award notices 2024", "สรุปผลการจัดซื้อจัดจ้างรายเดือน ตามแบบ สขร.1", ("จัดซื้อจัดจ้าง",), (2567,), ("PDF", "CSV")),
    ("sao-nongbua-disabled", "sao-nongbua", "ผู้พิการที่ได้รับเบี้ยความพิการ", "Disability allowance recipients", "จำนวนผู้พิการแยกตามประเภทความพิการ", ("ผู้พิการ", "สวัสดิการ"), (2567,), ("CSV",)),
    ("pcd-haze-north", "pcd", "จุดความร้อนและหมอกควันภาคเหนือ", "Hotspots and haze in the north", "จุดความร้อนจากดาวเทียมและค่าฝุ่นในจังหวัดภาคเหนือ", ("ไฟป่า", "ฝุ่น"), (2567,), ("CSV",)),
    ("tmd-earthquakes", "tmd", "เหตุการณ์แผ่นดินไหว", "Earthquake events", "ขนาด ความลึก และพิกัดของแผ่นดินไหว", ("ภัยพิบัติ",), (), ("CSV",)),
    ("nso-household-income", "nso", "รายได้และรายจ่ายของครัวเรือน", "Household income and expenditure", "ผลการสำรวจภาวะเศรษฐกิจและสังคมของครัวเรือน", ("เศรษฐกิจ", "ครัวเรือน"), (2565,), ("XLSX",)),
    ("bma-traffic-accidents", "bma", "อุบัติเหตุทางถนน", "Road traffic accidents", "จำนวนอุบัติเหตุ ผู้บาดเจ็บ และผู้เสียชีวิต แยกตามเขต", ("อุบัติเหตุ", "ถนน"), (2566,), ("CSV",)),
    ("drr-concrete-price", "drr", "ราคากลางงานก่อสร้างถนนคอนกรีต", "Reference prices for concrete road works", "ราคากลางต่อตารางเมตรของผิวจราจรคอนกรีตเสริมเหล็กรายจังหวัด", ("ราคากลาง", "ถนน"), (2567,), ("XLSX",)),
    ("moph-covid-vaccine", "moph", "การฉีดวัคซีนโควิด 19", "COVID-19 vaccination", "จำนวนผู้ได้รับวัคซีนแต่ละเข็ม รายจังหวัด", ("สาธารณสุข", "วัคซีน"), (2564, 2565), ("CSV",)),
    ("parliament-votes", "parliament", "ผลการลงมติของสมาชิกสภาผู้แทนราษฎร", "Votes of members of the House", "การลงมติรายบุคคลในแต่ละวาระ", ("รัฐสภา",), (), ("JSON",)),
    ("dla-local-elections", "dla", "ผลการเลือกตั้งท้องถิ่น", "Local election results", "ผลการเลือกตั้งนายก อบจ. และสมาชิกสภาท้องถิ่น", ("เลือกตั้ง",), (2563,), ("CSV",)),
    ("pao-korat-schools", "pao-nakhonratchasima", "โรงเรียนในสังกัด", "Schools under the PAO", "โรงเรียนที่ถ่ายโอนมาสังกัดองค์การบริหารส่วนจังหวัด", ("การศึกษา", "โรงเรียน"), (), ("CSV",)),
    ("sao-banmai-budget-2566", "sao-banmai", "ข้อบัญญัติงบประมาณรายจ่ายประจำปี 2566", "SAO budget ordinance FY2023", "งบประมาณรายจ่ายทั่วไปของ อบต.", ("งบประมาณ",), (2566,), ("PDF",)),
    ("kk-city-drainage-project", "khonkaen-city", "โครงการวางท่อระบายน้ำ", "Drainage pipe project", "ความคืบหน้าการวางท่อระบายน้ำ คสล. ในชุมชน", ("โครงสร้างพื้นฐาน", "น้ำ"), (2567,), ("CSV",)),
    ("bma-canals", "bma", "คลองในกรุงเทพมหานคร", "Canals of Bangkok", "ชื่อคลอง ความยาว และเขตที่คลองไหลผ่าน", ("น้ำ", "คลอง"), (), ("SHP",)),
    ("cgd-salary-scales", "cgd", "บัญชีอัตราเงินเดือนข้าราชการ", "Civil service salary scales", "อัตราเงินเดือนขั้นต่ำขั้นสูงตามประเภทตำแหน่ง", ("บุคลากร",), (2567,), ("PDF",)),
    ("bb-budget-by-ministry-2566", "bb", "งบประมาณจำแนกตามกระทรวง 2566", "Budget by ministry FY2023", "วงเงินงบประมาณรายจ่ายจำแนกตามกระทรวงและงบรายจ่าย", ("งบประมาณ",), (2566,), ("CSV",)),
    ("nso-tourism-stats", "nso", "สถิติผู้เยี่ยมเยือนชาวไทยและชาวต่างชาติ", "Visitor statistics", "จำนวนผู้เยี่ยมเยือนและรายได้จากการท่องเที่ยวรายจังหวัด", ("ท่องเที่ยว", "สถิติ"), (2566,), ("XLSX",)),
    ("pcd-waste-stats", "pcd", "ปริมาณขยะมูลฝอยชุมชนรายจังหวัด", "Municipal solid waste by province", "ขยะมูลฝอยที่เกิดขึ้น ถูกกำจัดถูกต้อง และนำกลับมาใช้ประโยชน์", ("ขยะ", "สิ่งแวดล้อม"), (2566,), ("XLSX",)),
    ("tmd-temperature", "tmd", "อุณหภูมิสูงสุดรายเดือน", "Monthly maximum temperature", "อุณหภูมิสูงสุดเฉลี่ยจากสถานีตรวจอากาศ", ("สภาพอากาศ",), (), ("CSV",)),
    ("moph-hospital-beds", "moph", "จำนวนเตียงผู้ป่วยของโรงพยาบาล", "Hospital beds", "จำนวนเตียงแยกตามประเภทโรงพยาบาลและจังหวัด", ("สาธารณสุข", "โรงพยาบาล"), (2566,), ("CSV",)),
    ("dla-pao-list", "dla", "ทำเนียบองค์การบริหารส่วนจังหวัด", "Directory of provincial administrative organizations", "ชื่อ ที่อยู่ และนายก อบจ. ทั้ง 76 แห่ง", ("ท้องถิ่น",), (), ("CSV",)),
    ("thathong-parking-ordinance", "thathong-town", "เทศบัญญัติ เรื่อง การจอดรถในเขตเทศบาล", "Parking bylaw", "บริเวณห้ามจอด อัตราค่าจอด และบทกำหนดโทษ", ("กฎหมาย", "จราจร"), (2565,), ("PDF",)),
    ("donkaeo-market-ordinance", "donkaeo-tm", "เทศบัญญัติ เรื่อง ตลาด", "Market bylaw", "หลักเกณฑ์การจัดตั้งและดูแลตลาดในเขตเทศบาลตำบล", ("กฎหมาย", "ตลาด"), (2564,), ("PDF",)),
    ("parliament-budget-debate-2568", "parliament", "บันทึกการอภิปรายร่าง พ.ร.บ.งบประมาณ ปี 2568", "Records of the FY2025 budget bill debate", "ผู้อภิปราย ประเด็น และเวลาที่ใช้ในการอภิปราย", ("รัฐสภา", "งบประมาณ"), (2568,), ("JSON",)),
]
# fmt: on

# (query, dataset name that must be in the top 3)
CASES: list[tuple[str, str]] = [
    # Thai, with organisation abbreviations written with and without dots
    ("งบประมาณ เชียงใหม่ 2567", "pao-cm-budget-2567"),
    ("อบจ.เชียงใหม่ งบประมาณ 2566", "pao-cm-budget-2566"),
    ("องค์การบริหารส่วนจังหวัดขอนแก่น งบประมาณ", "pao-kk-budget-2567"),
    ("อบจ ขอนแก่น งบประมาณ", "pao-kk-budget-2567"),
    ("แหล่งน้ำ ทต.ดอนแก้ว", "donkaeo-water"),
    ("รายได้ อปท.", "dla-local-revenue"),
    ("PM2.5 กทม.", "bma-air-pm25"),
    ("ฝุ่น กรุงเทพ", "bma-air-pm25"),
    ("งบประมาณ กรุงเทพมหานคร 2567", "bma-budget-2567"),
    ("คลอง กทม", "bma-canals"),
    ("รพ.สต.", "moph-hospitals"),
    ("โรงพยาบาลส่งเสริมสุขภาพตำบล", "moph-hospitals"),
    # Synonyms of places and words
    ("จัดซื้อ โคราช", "pao-korat-procurement-2566"),
    ("โรงเรียน โคราช", "pao-korat-schools"),
    ("โบราณสถาน อยุธยา", "ayutthaya-heritage"),
    ("เบี้ยยังชีพผู้สูงอายุ อยุธยา", "sao-banmai-elderly"),
    ("ความคืบหน้า โครงการก่อสร้างถนน", "sao-nongbua-road-progress"),
    ("ร่าง พ.ร.บ. งบประมาณ 2568", "bb-budget-bill-2568"),
    ("ร่างกฎหมาย", "parliament-bills"),
    # Parts of compounds
    ("คอนกรีต หนองบัว", "sao-nongbua-road-progress"),
    ("ราคากลาง คอนกรีต", "drr-concrete-price"),
    ("ขยะ ขอนแก่น", "kk-city-waste"),
    ("ท่อระบายน้ำ คืบหน้า", "kk-city-drainage-project"),
    # Abbreviation dots optional
    ("พ.ร.บ.งบประมาณ 2567", "bb-budget-act-2567"),
    ("พรบ งบประมาณ 2567", "bb-budget-act-2567"),
    # Years: BE, Thai digits, CE
    ("เทศบัญญัติ 2568", "kk-city-budget-2568"),
    ("งบประมาณ ๒๕๖๘ เทศบาลนครขอนแก่น", "kk-city-budget-2568"),
    ("budget 2025 Khon Kaen", "kk-city-budget-2568"),
    ("๒๕๖๖ อบต.บ้านใหม่", "sao-banmai-budget-2566"),
    ("เบิกจ่าย 2567", "cgd-disbursement-2567"),
    ("budget disbursement 2024", "cgd-disbursement-2567"),
    ("จัดซื้อจัดจ้าง ดอนแก้ว 2567", "donkaeo-procurement-2567"),
    # English and mixed
    ("procurement plan Nakhon Ratchasima", "pao-korat-procurement-2566"),
    ("road construction progress", "sao-nongbua-road-progress"),
    ("elderly allowance", "sao-banmai-elderly"),
    ("flood risk", "thathong-flood"),
    ("bangkok air quality", "bma-air-pm25"),
    ("draft budget bill 2025", "bb-budget-bill-2568"),
    ("dengue", "moph-dengue"),
    ("population by province", "nso-population"),
    ("historic sites ayutthaya", "ayutthaya-heritage"),
    ("land tax ayutthaya", "sao-banmai-tax"),
    ("public debt", "mof-debt"),
    ("vaccine covid", "moph-covid-vaccine"),
    ("Chiang Mai tourism", "pao-cm-tourism"),
    ("FY2023 budget by ministry", "bb-budget-by-ministry-2566"),
    ("e-GP สัญญา", "cgd-egp-contracts-2566"),
    ("น้ำท่วม", "thathong-flood"),
    ("ไข้เลือดออก", "moph-dengue"),
    ("ฝน รายวัน", "tmd-rainfall"),
    ("ศูนย์พัฒนาเด็กเล็ก", "kk-city-child-centres"),
    ("ภาษีที่ดิน", "sao-banmai-tax"),
    ("เลือกตั้งท้องถิ่น", "dla-local-elections"),
    # Phrases and OR
    ('"ขยะมูลฝอย" รายจังหวัด', "pcd-waste-stats"),
    ("parking OR จอดรถ", "thathong-parking-ordinance"),
    # Misspellings (answered through the "did you mean" correction)
    ("budjet bangkok", "bma-budget-2567"),
    ("populaton", "nso-population"),
    ("ไข้เลือดอก", "moph-dengue"),
    ("งบประมาน เชียงใหม่", "pao-cm-budget-2567"),
]


def corpus() -> list[SearchDocument]:
    """The relevance corpus as search documents (id = name)."""
    docs = []
    for i, (name, org, title_th, title_en, notes_th, tags, years, formats) in enumerate(DATASETS):
        org_th, org_en, parents = ORGS[org]
        parent_titles = tuple(t for p in parents for t in ORGS[p][:2])
        docs.append(
            SearchDocument(
                id=name,
                name=name,
                title_th=title_th,
                title_en=title_en,
                notes_th=notes_th,
                tags=tags,
                organization=org,
                organization_titles=(org_th, org_en, *parent_titles),
                organization_parents=parents,
                res_names=tuple(f"{title_th} ({fmt})" for fmt in formats),
                res_formats=formats,
                fiscal_years=years,
                license_id="Open Data Common",
                data_type="ข้อมูลสถิติ" if "สถิติ" in tags else "ข้อมูลระเบียน",
                data_category="ข้อมูลสาธารณะ",
                update_frequency="ปี",
                metadata_created=datetime(2024, 1, 1 + i % 28, tzinfo=UTC),
                metadata_modified=datetime(2024, 6, 1 + i % 28, tzinfo=UTC),
                popularity=i % 7,
            )
        )
    return docs

"""The packet's vocabulary in the four packet languages: Kazakh (Cyrillic), Russian, English, Chinese.

A packet is printed in one language, whatever language the coordinator's interface is in, so these
labels are kept here rather than in the gettext catalogues: ``label("ru", "status", "camp")``.
Every code of the case and evidence vocabularies (``casefile.cases.vocab``,
``casefile.evidence.vocab``) has a label in every language; a test holds them to that.

``default_letter`` gives the editable body of the cover letter; ``format_date`` prints the partial
ISO dates of a case ("2017", "2017-05", "2017-05-14") the way each language writes dates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

LANGUAGES = ("kk", "ru", "en", "zh")

# group -> code -> (kk, ru, en, zh)
_VOCAB: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "status": {
        "missing": ("Хабар-ошарсыз жоғалған / қайда екені белгісіз", "Пропал(а) без вести / местонахождение неизвестно",
                    "Missing / whereabouts unknown", "失踪 / 下落不明"),
        "camp": ("Лагерде ұсталуда", "Содержится в лагере", "Detained in a camp", "被关押在营地"),
        "detention_centre": ("Тергеу изоляторында ұсталуда", "Содержится в следственном изоляторе",
                             "Detained in a detention centre", "被关押在看守所"),
        "detained_unknown_place": ("Ұсталған, қай жерде екені белгісіз", "Задержан(а), место содержания неизвестно",
                                   "Detained, place unknown", "被拘押，关押地点不明"),
        "sentenced": ("Сотталған / түрмеде", "Осуждён(а) / в заключении", "Sentenced / in prison", "已被判刑 / 在监狱服刑"),
        "released_restricted": ("Бақылауда немесе үй қамағында босатылған",
                                "Освобождён(а) под надзор или домашний арест",
                                "Released under surveillance or house arrest", "获释但受监控或被软禁"),
        "forced_labour": ("Мәжбүрлі еңбекке жіберілген", "Направлен(а) на принудительный труд",
                          "Placed in forced labour", "被安排强迫劳动"),
        "exit_barred": ("Жол жүру құжаттары тәркіленген / шетелге шығуға тыйым салынған",
                        "Документы для выезда изъяты / выезд запрещён",
                        "Travel documents confiscated / exit barred", "出行证件被没收 / 被禁止出境"),
        "returned": ("Қазақстанға оралды", "Вернулся (вернулась) в Казахстан", "Returned to Kazakhstan", "已返回哈萨克斯坦"),
        "deceased": ("Қайтыс болған", "Умер(ла)", "Deceased", "已死亡"),
        "unknown": ("Белгісіз", "Неизвестно", "Unknown", "不明"),
    },
    "sex": {
        "M": ("Ер", "Муж.", "Male", "男"),
        "F": ("Әйел", "Жен.", "Female", "女"),
    },
    "citizenship": {
        "unknown": ("Белгісіз", "Неизвестно", "Unknown", "不明"),
        "kazakhstan": ("Қазақстан азаматы", "Гражданство Казахстана", "Kazakhstan citizen", "哈萨克斯坦公民"),
        "residence_permit": ("Қазақстанда тұруға ықтиярхаты бар", "Вид на жительство в Казахстане",
                             "Kazakhstan residence permit", "持有哈萨克斯坦居留许可"),
        "kandas": ("Қандас (этникалық қазақ, Қазақстанға қоныс аударушы)", "Кандас (статус этнического казаха-репатрианта)",
                   "Kandas (ethnic-Kazakh returnee status)", "“坎达斯”（哈萨克族回归者身份）"),
        "prc_only": ("Тек ҚХР азаматы", "Только гражданство КНР", "PRC citizen only", "仅为中华人民共和国公民"),
        "dual_claim": ("Қос азаматтық туралы мәлімделген", "Заявлено двойное гражданство", "Dual claim", "主张双重国籍"),
    },
    "script": {
        "cyrillic": ("Қазақ кириллицасы", "Казахская кириллица", "Kazakh Cyrillic", "哈萨克文（西里尔字母）"),
        "latin": ("Латын жазуы", "Латиница", "Latin", "拉丁字母"),
        "chinese": ("Қытай жазуы", "Китайское письмо", "Chinese", "中文"),
        "arabic": ("Төте жазу (араб графикасы)", "Казахский в арабской графике (төте)", "Arabic-script Kazakh",
                   "哈萨克文（阿拉伯字母）"),
    },
    "name_kind": {
        "primary": ("Негізгі", "Основное", "Primary", "主要"),
        "alias": ("Басқаша жазылуы", "Другое написание", "Alias / other spelling", "别名 / 其他拼写"),
        "patronymic": ("Әкесінің атымен", "Форма с именем отца", "Patronymic form", "父名形式"),
        "document": ("Құжатта жазылғандай", "Как в документе", "As written on a document", "证件上的写法"),
    },
    "verification_level": {
        "0": ("L0 · Тексерілмеген мәлімет", "L0 · Непроверенное упоминание", "L0 · Unverified mention", "L0 · 未经核实的提及"),
        "1": ("L1 · Аты-жөні белгілі бір туысының айғағы", "L1 · Одно свидетельство названного родственника",
              "L1 · One testimony of a named relative", "L1 · 一位具名亲属的证词"),
        "2": ("L2 · Адамның жеке куәлігі қоса берілген айғақ немесе бейнеайғақ",
              "L2 · Свидетельство с документом, удостоверяющим личность, или видеосвидетельство",
              "L2 · Testimony with the person's ID document, or a video testimony", "L2 · 附有本人身份证件的证词或视频证词"),
        "3": ("L3 · Тәуелсіз дереккөз растаған", "L3 · Подтверждено независимым источником",
              "L3 · Confirmed by an independent source", "L3 · 经独立来源证实"),
        "4": ("L4 · Ресми құжат", "L4 · Официальный документ", "L4 · Official document", "L4 · 官方文件"),
    },
    "alleged_reason": {
        "religious_practice": ("Діни рәсімдер (намаз, ораза, Құран)", "Религиозная практика (молитва, пост, Коран)",
                               "Religious practice (praying, fasting, the Quran)", "宗教活动（礼拜、斋戒、《古兰经》）"),
        "relatives_abroad": ("Шетелдегі туыстарымен байланыс", "Связь с родственниками за рубежом",
                             "Contact with relatives abroad", "与境外亲属联系"),
        "money_transfers": ("Шетелден келген ақша аударымдары", "Денежные переводы из-за рубежа",
                            "Money transfers from abroad", "接受境外汇款"),
        "travel_kazakhstan": ("Қазақстанға барып келуі", "Поездки в Казахстан", "Travel to Kazakhstan", "前往哈萨克斯坦"),
        "foreign_documents": ("Қазақстандық немесе басқа шетелдік құжаттар", "Казахстанские или иные иностранные документы",
                              "Kazakh or other foreign documents", "持有哈萨克斯坦或其他外国证件"),
        "messaging_apps": ("WhatsApp немесе басқа шетелдік қосымшаларды пайдалану",
                           "Использование WhatsApp или других иностранных приложений",
                           "Use of WhatsApp or other foreign apps", "使用WhatsApp或其他境外应用程序"),
        "passport": ("Төлқұжаты болғаны", "Наличие паспорта", "Holding a passport", "持有护照"),
        "unknown": ("Себебі айтылмаған", "Причина не названа", "No reason given", "未告知理由"),
    },
    "timeline_kind": {
        "detention": ("Ұстау", "Задержание", "Detention", "拘押"),
        "transfer": ("Басқа жерге ауыстыру", "Перевод", "Transfer", "转移"),
        "trial": ("Сот", "Суд", "Trial", "审判"),
        "sentence": ("Үкім", "Приговор", "Sentence", "判决"),
        "release": ("Босату", "Освобождение", "Release", "释放"),
        "contact": ("Отбасымен байланыс", "Связь с семьёй", "Contact with the family", "与家人联系"),
        "official_reply": ("Ресми жауап", "Официальный ответ", "Official reply", "官方答复"),
        "other": ("Басқа", "Другое", "Other", "其他"),
    },
    "relationship": {
        "mother": ("Анасы", "Мать", "Mother", "母亲"),
        "father": ("Әкесі", "Отец", "Father", "父亲"),
        "spouse": ("Жұбайы", "Супруг(а)", "Spouse", "配偶"),
        "son": ("Ұлы", "Сын", "Son", "儿子"),
        "daughter": ("Қызы", "Дочь", "Daughter", "女儿"),
        "brother": ("Ағасы / інісі", "Брат", "Brother", "兄弟"),
        "sister": ("Әпкесі / қарындасы / сіңлісі", "Сестра", "Sister", "姐妹"),
        "other_relative": ("Басқа туысы", "Другой родственник", "Other relative", "其他亲属"),
        "witness": ("Куә", "Свидетель", "Witness", "证人"),
        "former_codetainee": ("Бұрын бірге ұсталған адам", "Бывший сокамерник", "Former co-detainee", "曾一同被关押者"),
    },
    "evidence_kind": {
        "identity_document": ("Жеке басын куәландыратын құжат", "Документ, удостоверяющий личность",
                              "Identity document", "身份证件"),
        "detention_notice": ("Ұстау туралы хабарлама", "Уведомление о задержании", "Detention notice", "拘留通知书"),
        "verdict": ("Сот үкімі", "Приговор суда", "Court verdict", "法院判决书"),
        "letter": ("Хат", "Письмо", "Letter", "信件"),
        "photo": ("Фотосурет", "Фотография", "Photo", "照片"),
        "audio_testimony": ("Аудиоайғақ", "Аудиосвидетельство", "Audio testimony", "录音证词"),
        "video_testimony": ("Бейнеайғақ", "Видеосвидетельство", "Video testimony", "视频证词"),
        "official_reply": ("Ресми жауап", "Официальный ответ", "Official reply", "官方答复"),
        "other": ("Басқа", "Другое", "Other", "其他"),
    },
    "recipient": {
        "kz-mfa": ("Қазақстан Республикасы Сыртқы істер министрлігі", "Министерство иностранных дел Республики Казахстан",
                   "Ministry of Foreign Affairs of the Republic of Kazakhstan", "哈萨克斯坦共和国外交部"),
        "prc-embassy": ("Қытай Халық Республикасының Қазақстан Республикасындағы Елшілігі",
                        "Посольство Китайской Народной Республики в Республике Казахстан",
                        "Embassy of the People's Republic of China in the Republic of Kazakhstan",
                        "中华人民共和国驻哈萨克斯坦共和国大使馆"),
        "kz-parliament": ("Қазақстан Республикасының Парламенті", "Парламент Республики Казахстан",
                          "Parliament of the Republic of Kazakhstan", "哈萨克斯坦共和国议会"),
        "un-wgeid": ("БҰҰ-ның Күштеп немесе еріксіз жоғалу мәселелері жөніндегі жұмыс тобы",
                     "Рабочая группа ООН по насильственным или недобровольным исчезновениям",
                     "UN Working Group on Enforced or Involuntary Disappearances", "联合国强迫或非自愿失踪问题工作组"),
        "un-wgad": ("БҰҰ-ның Негізсіз қамауға алу мәселелері жөніндегі жұмыс тобы",
                    "Рабочая группа ООН по произвольным задержаниям",
                    "UN Working Group on Arbitrary Detention", "联合国任意拘留问题工作组"),
        "ohchr": ("БҰҰ Адам құқықтары жөніндегі жоғарғы комиссарының басқармасы",
                  "Управление Верховного комиссара ООН по правам человека",
                  "Office of the UN High Commissioner for Human Rights", "联合国人权事务高级专员办事处"),
        "other": ("Басқа алушы", "Иной адресат", "Other recipient", "其他收件方"),
    },
    "request": {
        "fate": ("Аталған адамдардың тағдыры мен қайда екенін анықтап, отбасыларына хабарлау",
                 "Установить судьбу и местонахождение указанных лиц и сообщить о них их семьям",
                 "Establish the fate and whereabouts of the persons listed and inform their families",
                 "查明所列人员的命运和下落，并告知其家属"),
        "consular_access": ("Қазақстан азаматтарына және Қазақстанда тұруға ықтиярхаты барларға консулдық қол жеткізуді қамтамасыз ету",
                            "Обеспечить консульский доступ к гражданам Казахстана и лицам, имеющим вид на жительство в Казахстане",
                            "Secure consular access to citizens of Kazakhstan and holders of a Kazakh residence permit",
                            "确保对哈萨克斯坦公民及持有哈萨克斯坦居留许可者的领事探视"),
        "family_contact": ("Олардың отбасыларымен тұрақты байланысуына мүмкіндік беру",
                           "Обеспечить им возможность регулярной связи с семьями",
                           "Allow them regular contact with their families", "允许他们与家人保持经常联系"),
        "release": ("Оларды босату немесе Қытайдан шығуына рұқсат беру",
                    "Добиться их освобождения или разрешения на выезд из Китая",
                    "Seek their release or permission to leave China", "释放他们或准许他们离开中国"),
        "written_reply": ("Осы өтінішке жазбаша жауап беру", "Дать письменный ответ на настоящее обращение",
                          "Reply to this appeal in writing", "对本请愿作出书面答复"),
    },
    "legal_basis": {
        "vienna_convention": ("1963 жылғы 24 сәуірдегі Консулдық қатынастар туралы Вена конвенциясы (36-бап) — Қазақстан азаматтарына қатысты",
                              "Венская конвенция о консульских сношениях от 24 апреля 1963 года (статья 36) — в отношении граждан Казахстана",
                              "Vienna Convention on Consular Relations of 24 April 1963 (Article 36) — for citizens of Kazakhstan",
                              "1963年4月24日《维也纳领事关系公约》（第三十六条）——适用于哈萨克斯坦公民"),
        "enforced_disappearance_convention": (
            "Барлық адамдарды күштеп жоғалтудан қорғау туралы халықаралық конвенция (Қазақстан Республикасы оған қатысушы)",
            "Международная конвенция для защиты всех лиц от насильственных исчезновений (Республика Казахстан является её участником)",
            "International Convention for the Protection of All Persons from Enforced Disappearance, "
            "to which the Republic of Kazakhstan is a party",
            "《保护所有人免遭强迫失踪国际公约》（哈萨克斯坦共和国为该公约缔约国）"),
        "humanitarian": ("Гуманитарлық негіздер: отбасының туысының тағдырын білу құқығы және отбасын біріктіру",
                         "Гуманитарные основания: право семьи знать о судьбе родственника и воссоединение семей",
                         "Humanitarian grounds: the family's right to know the fate of their relative, and family reunification",
                         "人道主义理由：家属了解亲人命运的权利以及家庭团聚"),
    },
    "form": {
        "standard": ("Стандартты нысан", "Стандартная форма", "Standard form", "标准格式"),
        "wgeid": ("БҰҰ WGEID жеке іс нысаны", "Форма сообщения WGEID ООН", "UN WGEID case form", "联合国强迫失踪问题工作组个案表"),
    },
    "language": {
        "kk": ("Қазақ тілі", "Казахский", "Kazakh", "哈萨克语"),
        "ru": ("Орыс тілі", "Русский", "Russian", "俄语"),
        "en": ("Ағылшын тілі", "Английский", "English", "英语"),
        "zh": ("Қытай тілі", "Китайский", "Chinese", "中文"),
    },
    # Section headings of the packet.
    "heading": {
        "cover_letter": ("Ілеспе хат", "Сопроводительное письмо", "Cover letter", "附函"),
        "list": ("Адамдар тізімі", "Список лиц", "List of persons", "人员名单"),
        "cases": ("Жеке істер", "Индивидуальные случаи", "Individual cases", "个案材料"),
        "case": ("Іс", "Случай", "Case", "个案"),
        "wgeid_form": ("Күштеп немесе еріксіз жоғалу туралы хабарлама нысаны",
                       "Форма сообщения о насильственном или недобровольном исчезновении",
                       "Communication form: enforced or involuntary disappearance", "强迫或非自愿失踪来文表"),
        "summary": ("Қысқаша мәлімет", "Краткие сведения", "Summary", "概要"),
        "requests": ("Біздің өтініштеріміз", "Мы просим", "Our requests", "我们的请求"),
        "legal_basis": ("Құқықтық негіз", "Правовые основания", "Legal basis", "法律依据"),
        "annexes": ("Қосымшалар", "Приложения", "Annexes", "附件"),
        "signatories": ("Қол қоюшылар", "Подписавшие", "Signatories", "签名人"),
        "person": ("Адам туралы мәлімет", "Сведения о человеке", "The person", "本人信息"),
        "what_happened": ("Не болды", "Что произошло", "What happened", "事件经过"),
        "timeline": ("Оқиғалар хронологиясы", "Хронология событий", "Timeline", "时间线"),
        "alleged_reasons": ("Айтылған себептер", "Названные причины", "Reasons alleged", "被指称的理由"),
        "sentence": ("Үкім", "Приговор", "Sentence", "判决"),
        "family_steps": ("Отбасы қабылдаған шаралар және олардың нәтижесі", "Шаги, предпринятые семьёй, и их результаты",
                         "Steps taken by the family and their results", "家属采取的措施及结果"),
        "responsible_authority": ("Жауапты деп саналатын орган", "Орган, предположительно несущий ответственность",
                                  "Authority believed responsible", "被认为负有责任的机关"),
        "evidence": ("Дәлелдер", "Доказательства", "Evidence", "证据"),
        "source": ("Мәлімет көзі", "Источник сведений", "Source of the information", "信息来源"),
        "wgeid_identity": ("1. Жоғалған адамның жеке басы", "1. Личность исчезнувшего лица",
                           "1. Identity of the person subjected to enforced disappearance", "1. 失踪者身份"),
        "wgeid_arrest": ("2. Ұсталған немесе жоғалған күні мен орны", "2. Дата и место задержания или исчезновения",
                         "2. Date and place of arrest or abduction, or of disappearance", "2. 被捕或失踪的日期和地点"),
        "wgeid_forces": ("3. Жауапты деп саналатын күштер", "3. Силы, предположительно несущие ответственность",
                         "3. Forces believed to be responsible", "3. 被认为负有责任的力量"),
        "wgeid_steps": ("4. Отбасы немесе басқалар қабылдаған шаралар", "4. Шаги, предпринятые семьёй или другими",
                        "4. Steps taken by the family or others to locate the person", "4. 家属或他人为寻找当事人所采取的措施"),
        "wgeid_source": ("5. Хабарлама жіберуші және отбасының келісімі", "5. Источник сообщения и согласие семьи",
                         "5. Identity of the source and consent of the family", "5. 来文提交者及家属同意情况"),
        "wgeid_further": ("6. Қосымша мәліметтер", "6. Дополнительные сведения", "6. Further information", "6. 补充信息"),
        "signatures": ("Қол қою парағы", "Подписной лист", "Signature sheet", "签名页"),
        "manifest": ("Манифест", "Манифест", "Manifest", "清单"),
        "manifest_evidence": ("Дәлелдердің SHA-256 хэштері", "Хэши SHA-256 доказательств", "SHA-256 of the evidence items",
                              "证据的SHA-256哈希值"),
    },
    # Field names.
    "field": {
        "recipient": ("Алушы", "Адресат", "Recipient", "收件方"),
        "address": ("Мекенжайы", "Адрес", "Address", "地址"),
        "date": ("Күні", "Дата", "Date", "日期"),
        "organisation": ("Ұйым", "Организация", "Organisation", "组织"),
        "contact": ("Байланыс", "Контакты", "Contact", "联系方式"),
        "outgoing_reference": ("Шығыс нөмірі", "Исходящий номер", "Our reference", "发文编号"),
        "subject": ("Тақырыбы", "Тема", "Subject", "事由"),
        "number": ("№", "№", "No.", "序号"),
        "names": ("Аты-жөні (барлық жазуларда)", "Имена (во всех написаниях)", "Names (in every script on record)",
                  "姓名（所有记录的文字）"),
        "sex": ("Жынысы", "Пол", "Sex", "性别"),
        "birth_date": ("Туған күні", "Дата рождения", "Date of birth", "出生日期"),
        "prc_id": ("ҚХР жеке куәлігінің нөмірі", "Номер удостоверения личности КНР", "PRC resident ID", "中国居民身份证号码"),
        "iin": ("ЖСН (Қазақстан)", "ИИН (Казахстан)", "IIN (Kazakhstan)", "个人识别号（哈萨克斯坦）"),
        "hometown": ("Туған жері / тұрғылықты жері", "Место проживания в Синьцзяне", "Hometown", "原籍地"),
        "detained_on": ("Ұсталған күні", "Дата задержания", "Detained on", "拘押日期"),
        "detention_place": ("Ұсталған орны", "Место содержания", "Place of detention", "关押地点"),
        "status": ("Мәртебесі", "Статус", "Status", "现状"),
        "citizenship": ("Азаматтығы", "Гражданство", "Citizenship", "国籍身份"),
        "ethnicity": ("Ұлты", "Национальность", "Ethnicity", "民族"),
        "occupation": ("Кәсібі", "Род занятий", "Occupation", "职业"),
        "kz_documents": ("Қазақстандық құжаттары", "Казахстанские документы", "Kazakh documents", "哈萨克斯坦证件"),
        "verification_level": ("Тексерілу деңгейі", "Уровень проверки", "Verification level", "核实等级"),
        "last_contact_on": ("Соңғы байланыс", "Последняя связь", "Last contact", "最后联系日期"),
        "trial_on": ("Сот болған күні", "Дата суда", "Trial date", "审判日期"),
        "release_on": ("Босатылған күні", "Дата освобождения", "Release date", "释放日期"),
        "alleged_reason_other": ("Басқа себептер", "Иные причины", "Other reasons", "其他理由"),
        "narrative": ("Баяндама", "Описание", "Account", "陈述"),
        "kind": ("Түрі", "Вид", "Kind", "类别"),
        "place": ("Орны", "Место", "Place", "地点"),
        "description": ("Сипаттамасы", "Описание", "Description", "描述"),
        "item": ("№", "№", "Item", "编号"),
        "sha256": ("SHA-256", "SHA-256", "SHA-256", "SHA-256"),
        "type": ("Файл түрі", "Тип файла", "File type", "文件类型"),
        "preview": ("Көрінісі", "Превью", "Preview", "预览"),
        "full_name": ("Толық аты-жөні", "Фамилия, имя, отчество", "Full name", "全名"),
        "postal_address": ("Пошталық мекенжайы", "Почтовый адрес", "Postal address", "邮寄地址"),
        "phone": ("Телефоны", "Телефон", "Phone", "电话"),
        "relationship": ("Туыстық қатысы", "Степень родства", "Relationship to the person", "与当事人的关系"),
        "cases_signed": ("Тізімдегі нөмірлері", "Номера в списке", "Numbers in the list", "名单中的序号"),
        "recipients_consented": ("Келісім берген алушылар", "Согласие на передачу адресатам", "Consents to these recipients",
                                 "同意提交的收件方"),
        "signature": ("Қолы", "Подпись", "Signature", "签名"),
        "reference": ("Пакет нөмірі", "Номер пакета", "Packet reference", "材料编号"),
        "case_reference": ("Іс нөмірі", "Номер случая", "Case reference", "个案编号"),
        "built_at": ("Жасалған уақыты", "Время сборки", "Built at", "生成时间"),
        "language": ("Тілі", "Язык", "Language", "语言"),
        "form": ("Нысаны", "Форма", "Form", "格式"),
        "case_count": ("Істер саны", "Число случаев", "Number of cases", "个案数量"),
        "evidence_count": ("Дәлелдер саны", "Число доказательств", "Number of evidence items", "证据数量"),
        "audit_head": ("Аудит тізбегінің басы (хэш)", "Вершина журнала аудита (хэш)", "Audit trail head (hash)",
                       "审计链头部哈希"),
        "audit_count": ("Аудит оқиғаларының саны", "Число событий аудита", "Audit events", "审计事件数量"),
        "people": ("Адамдар саны", "Число лиц", "Number of people", "人数"),
        "period": ("Кезең", "Период", "Period", "时间段"),
        "prefectures": ("Өңірлер", "Округа и области", "Prefectures", "地州"),
        "family_first_name": ("Тегі, аты (жазылғандай)", "Фамилия, имя (как записаны)",
                              "Family name, first name (as recorded)", "姓、名（按记录）"),
        "nationality": ("Азаматтығы", "Гражданство", "Nationality", "国籍"),
        "identity_document": ("Жеке басын куәландыратын құжат", "Документ, удостоверяющий личность", "Identity document",
                              "身份证件"),
        "date_of_arrest": ("Ұсталған немесе жоғалған күні", "Дата задержания или исчезновения",
                           "Date of arrest or disappearance", "被捕或失踪日期"),
        "place_of_arrest": ("Ұсталған немесе соңғы рет көрінген жері", "Место задержания или где видели в последний раз",
                            "Place of arrest or last seen", "被捕地点或最后出现地点"),
        "last_known_place": ("Соңғы белгілі ұсталу орны", "Последнее известное место содержания",
                             "Last known place of detention", "最后已知关押地点"),
        "forces_responsible": ("Жауапты деп саналатын күштер және неге", "Предположительно ответственные силы и почему",
                               "Forces believed responsible, and why", "被认为负有责任的力量及理由"),
        "source_relationship": ("Хабарлаушы және оның қатысы", "Источник и его отношение к лицу",
                                "Source and relationship to the person", "信息提供者及其与当事人的关系"),
        "family_consent": ("Отбасының келісімі", "Согласие семьи", "Consent of the family", "家属同意"),
    },
    # Words and phrases; those with {placeholders} are filled with ``str.format``.
    "text": {
        "not_known": ("белгісіз", "неизвестно", "not known", "不详"),
        "identity_withheld": ("жеке басы жасырылған", "личность не раскрывается", "identity withheld", "身份不予披露"),
        "consents": ("жіберуге келіседі", "согласен(на) на передачу", "consents to the submission", "同意提交"),
        "no_consent": ("келісім жоқ", "согласия нет", "no consent", "不同意"),
        "urgent": ("ШҰҒЫЛ РӘСІМ", "СРОЧНАЯ ПРОЦЕДУРА", "URGENT PROCEDURE", "紧急程序"),
        "urgent_note": ("Жоғалғанына үш айдан аз уақыт өтті.", "С момента исчезновения прошло менее трёх месяцев.",
                        "Less than three months have passed since the disappearance.", "失踪时间不足三个月。"),
        "page": ("{n} / {total}", "{n} / {total}", "{n} / {total}", "{n} / {total}"),
        "annex_list": ("{n} адамның тізімі", "Список из {n} лиц", "List of {n} persons", "{n}人名单"),
        "annex_cases": ("{n} жеке іс", "{n} индивидуальных случаев", "{n} individual case files", "{n}份个案材料"),
        "annex_wgeid": ("{n} жеке хабарлама нысаны (WGEID)", "{n} форм индивидуальных сообщений (WGEID)",
                        "{n} individual communication forms (WGEID)", "{n}份个案来文表（强迫失踪问题工作组）"),
        "annex_signatures": ("Қол қою парағы ({n} адам)", "Подписной лист ({n} подписантов)",
                             "Signature sheet ({n} signatories)", "签名页（{n}名签名人）"),
        "annex_manifest": ("Манифест: дәлелдердің SHA-256 хэштері және аудит тізбегінің басы",
                           "Манифест: хэши SHA-256 доказательств и вершина журнала аудита",
                           "Manifest: SHA-256 of the evidence and the audit trail head",
                           "清单：证据SHA-256哈希值及审计链头部"),
        "signature_intro": (
            "Төменде қол қойған біз {date} күнгі {ref} нөмірлі «{recipient}» атына жолданған өтінішті қолдаймыз және "
            "тізімде көрсетілген туыстарымыздың мәліметтерін осы алушыға беруге келісеміз.",
            "Мы, нижеподписавшиеся, поддерживаем обращение № {ref} от {date}, адресованное: {recipient}, и согласны "
            "на передачу этому адресату сведений о наших родственниках, указанных в списке.",
            "We, the undersigned, support the appeal {ref} of {date} addressed to {recipient}, and consent to the "
            "information on our relatives named in the list being given to this recipient.",
            "我们，下列签名人，支持{date}致{recipient}的第{ref}号请愿，并同意将名单中所列我们亲属的信息提交给该收件方。"),
        "manifest_note": (
            "Пакет PDF файлының SHA-256 хэші casefile жүйесінде сақталады; дәлелдер файлдарының хэштері түпнұсқа байттардан есептелген.",
            "SHA-256 файла PDF хранится в casefile; хэши доказательств вычислены по исходным байтам файлов.",
            "The SHA-256 of this PDF is recorded in casefile; the evidence hashes are of the original bytes of each file.",
            "本PDF文件的SHA-256记录于casefile；证据哈希值根据各文件原始字节计算。"),
        "period_both": ("{start} – {end}", "с {start} по {end}", "from {start} to {end}", "{start}至{end}"),
        "period_from": ("{start} бастап", "начиная с {start}", "from {start}", "{start}以来"),
        "period_to": ("{end} дейін", "по {end}", "up to {end}", "{end}以前"),
        "no_evidence": ("дәлел тіркелмеген", "доказательства не зарегистрированы", "no evidence recorded", "未登记证据"),
        "case_of": ("{number}-іс · {reference}", "Случай {number} · {reference}", "Case {number} · {reference}",
                    "第{number}号个案 · {reference}"),
    },
}

_INDEX = {language: i for i, language in enumerate(LANGUAGES)}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def groups() -> tuple[str, ...]:
    """The label groups, e.g. ``status``, ``heading``, ``field``, ``text``."""
    return tuple(_VOCAB)


def codes(group: str) -> tuple[str, ...]:
    """The codes of one group."""
    return tuple(_VOCAB[group])


def _check_language(language: str) -> int:
    try:
        return _INDEX[language]
    except KeyError:
        raise ValueError(f"unknown packet language {language!r}; one of {', '.join(LANGUAGES)}") from None


def label(language: str, group: str, code: object) -> str:
    """The label of ``code`` in ``group``, in ``language``.

    An unknown language or group is an error; an unknown code (a value added to a vocabulary
    after this table, or a free value) is printed as it is rather than dropped.
    """
    index = _check_language(language)
    try:
        table = _VOCAB[group]
    except KeyError:
        raise ValueError(f"unknown label group {group!r}") from None
    entry = table.get(str(code)) if code is not None else None
    return entry[index] if entry else ("" if code is None else str(code))


def table(language: str, group: str) -> dict[str, str]:
    """Every label of one group in one language."""
    index = _check_language(language)
    return {code: entry[index] for code, entry in _VOCAB[group].items()}


@lru_cache(maxsize=4096)
def format_date(language: str, value: str | None) -> str | None:
    """A partial ISO date ("2017", "2017-05", "2017-05-14") as ``language`` writes it; None stays None.

    Kazakh and Russian write ``14.05.2017`` / ``05.2017``; English ``14 May 2017`` / ``May 2017``;
    Chinese ``2017年5月14日`` / ``2017年5月`` / ``2017年``. A value that is not a partial ISO date
    is returned unchanged (printed as recorded).
    """
    _check_language(language)
    if value is None:
        return None
    text = str(value).strip()
    parts = text.split("-")
    if not (1 <= len(parts) <= 3 and len(parts[0]) == 4 and all(p.isdigit() and p.isascii() for p in parts)
            and all(len(p) == 2 for p in parts[1:])):
        return text
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else None
    day = int(parts[2]) if len(parts) > 2 else None
    if month is not None and not 1 <= month <= 12 or day is not None and not 1 <= day <= 31:
        return text
    if language in ("kk", "ru"):
        return ".".join(p for p in (f"{day:02d}" if day else None, f"{month:02d}" if month else None, f"{year}") if p)
    if language == "en":
        return " ".join(p for p in (str(day) if day else None, _MONTHS_EN[month - 1] if month else None, str(year)) if p)
    return f"{year}年" + (f"{month}月" if month else "") + (f"{day}日" if day else "")


def format_period(language: str, start: str | None, end: str | None) -> str | None:
    """"from 2017 to 2019" in ``language``; None when neither end is known."""
    start_text, end_text = format_date(language, start), format_date(language, end)
    if start_text and end_text:
        if start_text == end_text:
            return start_text
        return label(language, "text", "period_both").format(start=start_text, end=end_text)
    if start_text:
        return label(language, "text", "period_from").format(start=start_text)
    if end_text:
        return label(language, "text", "period_to").format(end=end_text)
    return None


def _russian_people(n: int) -> str:
    """"человека" after 1, 21, 31 …; "человек" otherwise (the genitive after "от имени")."""
    return "человека" if n % 10 == 1 and n % 100 != 11 else "человек"


_SALUTATION = {
    "kk": {"": "Құрметті ханымдар мен мырзалар!", "un-wgeid": "Жұмыс тобының құрметті мүшелері!",
           "un-wgad": "Жұмыс тобының құрметті мүшелері!"},
    "ru": {"": "Уважаемые дамы и господа!", "un-wgeid": "Уважаемые члены Рабочей группы!",
           "un-wgad": "Уважаемые члены Рабочей группы!"},
    "en": {"": "Dear Sir or Madam,", "un-wgeid": "Dear Members of the Working Group,",
           "un-wgad": "Dear Members of the Working Group,"},
    "zh": {"": "尊敬的先生/女士：", "prc-embassy": "尊敬的大使馆：", "kz-mfa": "尊敬的外交部：",
           "un-wgeid": "尊敬的工作组成员：", "un-wgad": "尊敬的工作组成员："},
}

_OPENING = {
    "kk": "Біз — Қытай Халық Республикасының Шыңжаң-Ұйғыр автономиялық ауданында ұсталған адамдардың Қазақстандағы "
          "туыстары және оларға көмектесетін ұйым — қоса берілген тізімдегі {n} адамның атынан Сізге жүгінеміз.",
    "ru": "Мы, проживающие в Казахстане родственники лиц, задержанных в Синьцзян-Уйгурском автономном районе "
          "Китайской Народной Республики, и организация, оказывающая им помощь, обращаемся к Вам от имени {n} {people}, "
          "перечисленных в прилагаемом списке.",
    "en": "We, relatives in Kazakhstan of people detained in the Xinjiang Uyghur Autonomous Region of the People's "
          "Republic of China, and the organisation assisting them, write to you on behalf of the {n} {people} named in "
          "the attached list.",
    "zh": "我们是中华人民共和国新疆维吾尔自治区被拘押人员在哈萨克斯坦的亲属，以及为他们提供帮助的组织。"
          "我们谨代表所附名单中的{n}人向贵方提出请愿。",
}

_PERIOD = {
    "kk": "Олардың ұсталған немесе хабарсыз кеткен кезеңі: {period}.",
    "ru": "Задержания и исчезновения относятся к периоду {period}.",
    "en": "The detentions and disappearances reported date {period}.",
    "zh": "所报告的拘押和失踪发生在{period}。",
}

_PREFECTURES = {
    "kk": "Олардың Шыңжаңдағы тұрғылықты жерлері: {prefectures}.",
    "ru": "Места их проживания в Синьцзяне: {prefectures}.",
    "en": "They come from these places in Xinjiang: {prefectures}.",
    "zh": "他们在新疆的原籍地为：{prefectures}。",
}

_SEPARATOR = {"kk": ", ", "ru": ", ", "en": ", ", "zh": "、"}

_CIRCUMSTANCES = {
    "kk": "Олардың Қазақстандағы отбасылары туыстары туралы ұзақ уақыт бойы хабар ала алмай отыр немесе өте сирек "
          "хабар алады. Әр істің мән-жайы отбасылардың айтуы бойынша қосымшаларда баяндалған.",
    "ru": "Их семьи в Казахстане долгое время не получают о них известий либо получают их крайне редко. "
          "Обстоятельства каждого случая, как их сообщили семьи, изложены в приложениях.",
    "en": "Their families in Kazakhstan have had no news of them for a long time, or only rarely. The circumstances "
          "of each case, as the families report them, are set out in the annexes.",
    "zh": "他们在哈萨克斯坦的家属长期没有他们的消息，或只是偶尔得到消息。各案的具体情况（根据家属的陈述）载于附件。",
}

_ASK = {
    "kk": {
        "kz-mfa": "Министрліктен дипломатиялық және консулдық арналар арқылы төменде көрсетілген шараларды қабылдауды сұраймыз.",
        "prc-embassy": "Елшіліктен осы өтінішті Қытай Халық Республикасының құзыретті органдарына жеткізуді және "
                       "төменде көрсетілген мәселелер бойынша жауап беруді сұраймыз.",
        "kz-parliament": "Депутаттардан осы адамдардың жағдайын бақылауға алып, бұл мәселені Үкімет алдында көтеруді сұраймыз.",
        "un-wgeid": "Жұмыс тобынан осы істерді өз рәсімдері бойынша Қытай Халық Республикасының Үкіметіне жолдауды сұраймыз.",
        "un-wgad": "Жұмыс тобынан осы істерді өз рәсімдері бойынша қарап, Қытай Халық Республикасының Үкіметіне жолдауды сұраймыз.",
        "ohchr": "Басқармадан осы істерді Қытай Халық Республикасының Үкіметі алдында көтеруді сұраймыз.",
        "": "Төменде көрсетілген шараларға жәрдемдесуіңізді сұраймыз.",
    },
    "ru": {
        "kz-mfa": "Просим Министерство использовать дипломатические и консульские каналы для принятия перечисленных ниже мер.",
        "prc-embassy": "Просим Посольство передать настоящее обращение компетентным органам Китайской Народной Республики "
                       "и дать ответ по изложенным ниже вопросам.",
        "kz-parliament": "Просим депутатов взять положение этих людей на контроль и поставить этот вопрос перед Правительством.",
        "un-wgeid": "Просим Рабочую группу в соответствии с её процедурами направить эти случаи Правительству Китайской "
                    "Народной Республики.",
        "un-wgad": "Просим Рабочую группу рассмотреть эти случаи в соответствии с её процедурами и направить их "
                   "Правительству Китайской Народной Республики.",
        "ohchr": "Просим Управление поднять эти случаи перед Правительством Китайской Народной Республики.",
        "": "Просим содействовать принятию перечисленных ниже мер.",
    },
    "en": {
        "kz-mfa": "We ask the Ministry to use its diplomatic and consular channels to take the steps listed below.",
        "prc-embassy": "We ask the Embassy to forward this appeal to the competent authorities of the People's Republic "
                       "of China and to reply on the points listed below.",
        "kz-parliament": "We ask the deputies to follow the situation of these people and to raise it with the Government.",
        "un-wgeid": "We ask the Working Group to transmit these cases to the Government of the People's Republic of China "
                    "under its procedures.",
        "un-wgad": "We ask the Working Group to consider these cases under its procedures and to transmit them to the "
                   "Government of the People's Republic of China.",
        "ohchr": "We ask the Office to raise these cases with the Government of the People's Republic of China.",
        "": "We ask for your help with the steps listed below.",
    },
    "zh": {
        "kz-mfa": "恳请贵部通过外交和领事渠道采取下列措施。",
        "prc-embassy": "恳请贵馆将本请愿转交中华人民共和国主管部门，并就下列事项作出答复。",
        "kz-parliament": "恳请各位议员关注这些人的处境，并向政府提出这一问题。",
        "un-wgeid": "恳请工作组按照其程序将这些案件转交中华人民共和国政府。",
        "un-wgad": "恳请工作组按照其程序审议这些案件，并将其转交中华人民共和国政府。",
        "ohchr": "恳请贵办事处就这些案件与中华人民共和国政府进行交涉。",
        "": "恳请贵方协助采取下列措施。",
    },
}

_CLOSING = {"kk": "Құрметпен,", "ru": "С уважением,", "en": "Yours faithfully,", "zh": "此致\n敬礼！"}


def default_letter(language: str, recipient_code: str, summary: dict[str, Any]) -> str:
    """The editable body of the cover letter in ``language``, for the recipient ``recipient_code``.

    Plain text, paragraphs separated by a blank line. ``summary`` is the packet's summary:
    ``people`` (int), ``period_from`` / ``period_to`` (partial ISO dates or None) and
    ``prefectures`` (names already in the packet language). The requests, the legal basis, the
    annexes and the signatories are printed by the packet itself, after this text.
    """
    _check_language(language)
    n = int(summary.get("people") or 0)
    paragraphs = [_SALUTATION[language].get(recipient_code, _SALUTATION[language][""])]
    people = {"ru": _russian_people(n), "en": "person" if n == 1 else "people"}.get(language, "")
    paragraphs.append(_OPENING[language].format(n=n, people=people))
    facts = []
    period = format_period(language, summary.get("period_from"), summary.get("period_to"))
    if period:
        facts.append(_PERIOD[language].format(period=period))
    prefectures = [p for p in summary.get("prefectures") or [] if p]
    if prefectures:
        facts.append(_PREFECTURES[language].format(prefectures=_SEPARATOR[language].join(prefectures)))
    if facts:
        paragraphs.append(("" if language == "zh" else " ").join(facts))
    paragraphs.append(_CIRCUMSTANCES[language])
    paragraphs.append(_ASK[language].get(recipient_code, _ASK[language][""]))
    paragraphs.append(_CLOSING[language])
    return "\n\n".join(paragraphs)

"""Chinese transcriptions of Kazakh (and Uyghur) names, read back as Kazakh sounds.

PRC documents write a Kazakh name with characters chosen by habit, not by Mandarin sound:
Нұрлан is 努尔兰 (pinyin "nuerlan"), Бақыт 巴合提 ("baheti"), Ержан 叶尔江 ("ye'erjiang").
Reading such a name through pinyin lands far from every Latin or Cyrillic spelling, so each
character here carries the Kazakh sounds it is used for, in Kazakh Latin (2021 letters):

* a character for a closed syllable's last consonant reads as the bare consonant: 尔 r,
  勒 l, 木 m, 提/特 t, 克 k/q, 合 q/h/ğ, 斯 s, 孜 z, 西 ş, 甫 p/f, 布 b, 德 d, 格 g, 恩 n/ñ;
* a syllable character reads as its Kazakh syllable: 别 be, 江 jan, 加 ja, 叶 e/ye, 吾 u/o,
  哈 qa/ha/ğa, 海 qai, 沙 şa/sa, 赛 se/sai, 古 gu/gü, 丽 l/li/ri ...;
* one character often stands for several sounds (Chinese has no q/k, r/l or ğ/q contrast:
  力 is l, li, r or ri; 哈 is qa, ha or ğa): every reading is kept, the first is the usual one.

``lattice()`` gives the readings of each character of a word; comparing a word against another
spelling takes the best path through them (see ``keys.lattice_distance``), so 托合塔尔 and
托克塔尔 both read toqtar and 赛力克 reads serik. ``preferred_reading()`` gives one Latin form.
Characters outside the table fall back to their pinyin (``casefile.people.names.PINYIN``) read
with the same habits, and failing that stay as they are (they then only match themselves).

PRC romanisations of such names (passports, ID cards: NUERLAN TUOHETAER, BIEKEZATI) are pinyin
of the characters; ``pinyin_lattice()`` splits such a Latin word into syllables and reads each
through every character of that syllable in the table.
"""

from __future__ import annotations

import re
from functools import lru_cache

from casefile.people.names import PINYIN

# character=pinyin:reading/reading...  (first reading = the usual one).
_TABLE = """
阿=a:a/ä 啊=a:a 艾=ai:ai/ä/e/ay 爱=ai:ai/ä/e 埃=ai:e/ä 哎=ai:ai/e 安=an:an/än 昂=ang:añ/an
奥=ao:o/au 傲=ao:o/au 欧=ou:ö/o/ou 额=e:e/ä 鄂=e:e 厄=e:e 娥=e:e 恩=en:n/ñ/en/yn 尔=er:r/er/yr/ır
儿=er:r/er 耳=er:r/er 伊=yi:i/ı/y 依=yi:i/y/ı/iy 衣=yi:i/y 亦=yi:i 易=yi:i 怡=yi:i 义=yi:i
亿=yi:i 意=yi:i 乌=wu:u/ū/ü/w 吾=wu:u/w/o/ö/ū/ü 武=wu:u/w 伍=wu:u/w 务=wu:u 沃=wo:o/ö/wo/w
翁=weng:oñ/on/un 温=wen:un/ün/wen
巴=ba:ba/bä 八=ba:ba 拔=ba:ba 拜=bai:bai/bay/bä 白=bai:bai/bä 百=bai:bai 柏=bai:bai 班=ban:ban/bän
包=bao:bau/bauy/bo/bao 保=bao:bau/bo 宝=bao:bau/bo 贝=bei:bei/be 北=bei:bei/be 本=ben:ben/bön/bun
比=bi:bi/bı/by 毕=bi:bi/bı 必=bi:bi/bı 碧=bi:bi 别=bie:be/bi/bie 宾=bin:bin/ben 斌=bin:bin
波=bo:bo/bö/bu/bū 博=bo:bo/bö 勃=bo:bo 伯=bo:bo 布=bu:b/bu/bū/bü 不=bu:bu/b 边=bian:ben/bian
帕=pa:pa/pä 排=pai:pe/pai 潘=pan:pan 盼=pan:pan 佩=pei:pe/pei 培=pei:pe/pei 皮=pi:pi/pı/py
普=pu:p/pu 坡=po:po 朴=pu:pu/p
塔=ta:ta/tä 他=ta:ta 太=tai:tai/tay/tä 泰=tai:tai/tay 坦=tan:tan 谈=tan:tan 唐=tang:tañ/tan
汤=tang:tañ/tan 陶=tao:tau/to 涛=tao:tau 特=te:t/te 腾=teng:ten/teñ/tyn 提=ti:t/ti/tı/ty
蒂=ti:ti/t 体=ti:ti 铁=tie:te/ti 天=tian:ten/tian 田=tian:ten 通=tong:toñ/ton 同=tong:toñ/ton
托=tuo:to/tö/tu 拖=tuo:to 陀=tuo:to 吐=tu:tu/tū/tü 图=tu:tu/tü 土=tu:tu 涂=tu:tu
屯=tun:tun/tūn 吞=tun:tun 推=tui:tui/tüi
达=da:da/dä 大=da:da 答=da:da 代=dai:de/dai/dä 岱=dai:dai 戴=dai:dai/de 丹=dan:dan 旦=dan:dan
道=dao:dau/do 刀=dao:dau 德=de:d/de/dy 得=de:d/de 登=deng:den/deñ 邓=deng:deñ 地=di:di/dı
迪=di:di/dı 狄=di:di 帝=di:di 娣=di:di 迭=die:de 典=dian:den 丁=ding:diñ/din 东=dong:doñ/don
多=duo:do/dö/dū 朵=duo:do 杜=du:du/dū/dü 都=du:du 督=du:du 敦=dun:dun 顿=dun:dun 堆=dui:dui
卡=ka:qa/ka/kä 喀=ka:qa/ka 开=kai:qai/kai/ke 凯=kai:qai/kai 坎=kan:qan/kan/kän 侃=kan:qan/kan
康=kang:qañ/qan 考=kao:qau/kau 克=ke:k/q/ke/qy/kı 科=ke:ke/qo/ko 柯=ke:ke/k 可=ke:ke/q 客=ke:ke
肯=ken:ken/kän/kın 库=ku:qu/ku/kü/qū 酷=ku:ku 宽=kuan:quan/kuan 昆=kun:qun/kün/kun 坤=kun:qun/kun
阔=kuo:qo/ko/kö 奎=kui:qui/küi 夸=kua:qua/kua
尕=ga:ğa/ga/qa 嘎=ga:ğa/ga 盖=gai:ge/gai 甘=gan:gan/ğan/qan 干=gan:gan 刚=gang:ğañ/gan
冈=gang:gañ 高=gao:ğau/gau/qau/go 格=ge:g/ge/gı/ğ 戈=ge:ge 哥=ge:ge 歌=ge:ge 葛=ge:ge
根=gen:gen/gün 庚=geng:gen/geñ 贡=gong:ğoñ/gon 古=gu:gu/gü/ğu/qu 谷=gu:gu/gü 关=guan:guan
贵=gui:gui 桂=gui:gui 国=guo:go 果=guo:go 郭=guo:go/ğo 衮=gun:gun
哈=ha:qa/ha/ğa/ka/a 海=hai:qai/hai/ğai 汗=han:han/qan/ğan 罕=han:han/qan 汉=han:han 涵=han:han
杭=hang:qañ/hañ 航=hang:hañ 豪=hao:qau/hau 好=hao:hau 合=he:q/h/ğ/qa/he/k 赫=he:h/he/q
何=he:he/q 和=he:he/q 河=he:he 贺=he:he 黑=hei:qe/he 亨=heng:heñ 洪=hong:qoñ/hoñ 红=hong:hoñ
胡=hu:qu/hu/ğu/ku 呼=hu:hu/qu 虎=hu:hu 华=hua:qua/hua 花=hua:hua 欢=huan:quan/huan 辉=hui:hui/qui
惠=hui:hui 霍=huo:qo/ho/ğo 火=huo:qo/ho
吉=ji:j/ji/jı/gi 基=ji:ji 季=ji:ji 纪=ji:ji 姬=ji:ji 加=jia:ja/jä 佳=jia:ja 嘉=jia:ja 家=jia:ja
贾=jia:ja 坚=jian:jan 建=jian:jan 江=jiang:jan/jañ 疆=jiang:jan 姜=jiang:jan 杰=jie:je/j 洁=jie:je
捷=jie:je 金=jin:jin/jın 锦=jin:jin 晋=jin:jin 津=jin:jin 久=jiu:ju/jiu 居=ju:jü/ju/jū 菊=ju:ju
巨=ju:ju 娟=juan:juan 君=jun:jun/jün 俊=jun:jun
拉=la:la/ra/lä 腊=la:la 啦=la:la 来=lai:le/lai 莱=lai:le/lai 赖=lai:lai 兰=lan:lan/län/ran
蓝=lan:lan 岚=lan:lan 朗=lang:lañ/lan 郎=lang:lañ 劳=lao:lau/lo 勒=le:l/le/yl/ıl 乐=le:le/l
雷=lei:lei/le 蕾=lei:lei 力=li:l/li/lı/ly/r/ri/rı/ry 里=li:l/li/lı/r/ri/rı 丽=li:l/li/lı/le/ri
利=li:l/li/r/ri 莉=li:li/l 理=li:li/l 立=li:li/l 黎=li:li 李=li:li 连=lian:len/lan 莲=lian:len
良=liang:lañ 亮=liang:lañ 列=lie:le/l/re 烈=lie:le 林=lin:lin/lın 琳=lin:lin 霖=lin:lin 麟=lin:lin
玲=ling:liñ/lin 铃=ling:lin 灵=ling:lin 留=liu:lu/liu 刘=liu:liu 柳=liu:liu 龙=long:loñ/lon
鲁=lu:lu/lū/lü 卢=lu:lu 路=lu:lu 露=lu:lu 陆=lu:lu 禄=lu:lu 吕=lü:lü/lu 伦=lun:lun/lün
罗=luo:lo/lö/ro 洛=luo:lo
马=ma:ma/mä 玛=ma:ma/mä 麻=ma:ma 买=mai:me/mä/mai/may 麦=mai:me/mä/mai 迈=mai:mai/me
曼=man:man/män 满=man:man 蔓=man:man 芒=mang:mañ 毛=mao:mau/mo 茂=mao:mau 美=mei:mei/me/mäi
梅=mei:mei/me 玫=mei:mei 门=men:men 蒙=meng:moñ/meñ/mon 孟=meng:meñ 米=mi:mi/mı/my 密=mi:mi
蜜=mi:mi 敏=min:min 民=min:min 明=ming:miñ/min 莫=mo:mo/mö 默=mo:mo 墨=mo:mo 漠=mo:mo
木=mu:mu/m/mū/mü/my 穆=mu:mu/mū/m 姆=mu:m/mu 慕=mu:mu
那=na:na/nä 纳=na:na/nä 娜=na:na/nä 拿=na:na 乃=nai:ne/nai/nä 奈=nai:ne/nai 内=nei:ne/nei
南=nan:nan 楠=nan:nan 讷=ne:ne 尼=ni:ni/nı/ny 妮=ni:ni 倪=ni:ni 聂=nie:ne 宁=ning:niñ/nin
努=nu:nu/nū/nü 奴=nu:nu 诺=nuo:no/nö 纽=niu:nu
齐=qi:çi/şi 奇=qi:çi/ç/şi 其=qi:çi 琪=qi:çi 启=qi:çi 祺=qi:çi 恰=qia:ça/şa 千=qian:çan 倩=qian:çan
乔=qiao:ço/çau 切=qie:çe/şe 钦=qin:çin 秦=qin:çin 丘=qiu:çu 秋=qiu:çu 曲=qu:çu/qu 屈=qu:çu
热=re:r/re/ra/rä/ri 日=ri:r/ri/rı 任=ren:ren 仁=ren:ren 荣=rong:roñ/ron 蓉=rong:roñ 肉=rou:ro/rö
柔=rou:ro 如=ru:ru/rū/rü 茹=ru:ru/rü 汝=ru:ru 瑞=rui:rui/ri 然=ran:ran 若=ruo:ro
萨=sa:sa/sä 撒=sa:sa 赛=sai:se/sai/sä/say 塞=sai:se/sai 色=se:se/s 瑟=se:se 森=sen:sen/sın/syn
桑=sang:sañ 三=san:san 散=san:san 斯=si:s/sı/sy/si 司=si:s/si 思=si:s/si 丝=si:si 松=song:soñ/son
苏=su:su/sū/sü 素=su:su/sü/sū/sı 肃=su:su 孙=sun:sun/syn 索=suo:so/sö 绥=sui:sui
沙=sha:şa/sa/şä/sä 莎=sha:şa/sa 山=shan:şan/san 珊=shan:şan 善=shan:şan 尚=shang:şañ 舍=she:şe
申=shen:şyn/şın/şen 深=shen:şen 生=sheng:şeñ 胜=sheng:şeñ 什=shi:ş/şı/şy 师=shi:şı 史=shi:şı
石=shi:şı 诗=shi:şı 舒=shu:şu/şü 书=shu:şu
西=xi:ş/şı/şy/si/sı 希=xi:şı/ş/si 锡=xi:şı 喜=xi:şı 夏=xia:şa/şä 霞=xia:şa 先=xian:şan 仙=xian:şan
贤=xian:şan 香=xiang:şañ 祥=xiang:şañ 翔=xiang:şañ 谢=xie:şe 协=xie:şe 辛=xin:şın/sın 欣=xin:şın
新=xin:şın 鑫=xin:şın 秀=xiu:şu 修=xiu:şu 旭=xu:şü/su 许=xu:şü 徐=xu:şü 雪=xue:şüe 学=xue:şüe
逊=xun:sun/syn/sın/şun 迅=xun:sun/syn 寻=xun:sun
亚=ya:ia/ya 雅=ya:ia/ya 娅=ya:ia 牙=ya:ia 燕=yan:ian 艳=yan:ian 延=yan:ian 彦=yan:ian 颜=yan:ian
严=yan:ian 扬=yang:iañ 阳=yang:iañ 杨=yang:iañ 洋=yang:iañ 姚=yao:iau 耀=yao:iau 叶=ye:e/ye/ie
耶=ye:ye/e 也=ye:ye/e 野=ye:ye 因=yin:in/yn/ın 银=yin:in 殷=yin:in 音=yin:in 英=ying:iñ/in
迎=ying:iñ 颖=ying:iñ 勇=yong:ioñ 永=yong:ioñ 尤=you:iu/yu/ü/u 友=you:iu 优=you:iu
玉=yu:ü/iu/yu/ı 于=yu:iu/ü 余=yu:iu/ü 宇=yu:iu 雨=yu:iu 禹=yu:iu 育=yu:iu 裕=yu:iu/ü
园=yuan:iuan 元=yuan:iuan 源=yuan:iuan 媛=yuan:iuan 月=yue:iue 悦=yue:iue 云=yun:iun 芸=yun:iun
蕴=yun:iun
瓦=wa:ua/va/wa 娃=wa:ua 哇=wa:ua 万=wan:uan 婉=wan:uan 宛=wan:uan 旺=wang:uañ 王=wang:uañ
威=wei:uei/ve/vi 维=wei:ui/ve/vi/ue 韦=wei:ui/ve 伟=wei:ui 卫=wei:ui 薇=wei:ui 文=wen:uen/ven
匝=za:za 扎=zha:za/ja/zä 再=zai:ze/zai/zä 在=zai:zai 载=zai:zai 赞=zan:zan 泽=ze:ze/z 则=ze:ze/z
孜=zi:z/zı/zy/zi 兹=zi:z/zı 子=zi:zı 姿=zi:zı 紫=zi:zı 资=zi:zı 自=zi:zı 祖=zu:zu/zü 足=zu:zu
佐=zuo:zo 左=zuo:zo 宗=zong:zoñ
占=zhan:jan/zan 展=zhan:jan 詹=zhan:jan 张=zhang:jañ 章=zhang:jañ 赵=zhao:jau 昭=zhao:jau
哲=zhe:je/ze 者=zhe:je 折=zhe:je 珍=zhen:jen 真=zhen:jen 振=zhen:jen 正=zheng:jeñ 政=zheng:jeñ
芝=zhi:jı 之=zhi:jı 志=zhi:jı 智=zhi:jı 钟=zhong:joñ 忠=zhong:joñ 朱=zhu:ju/jü/jū 珠=zhu:ju
祝=zhu:ju 竹=zhu:ju 卓=zhuo:jo/jö
茨=ci:c 慈=ci:c 措=cuo:co 才=cai:cai 彩=cai:cai 蔡=cai:cai 灿=can:can 查=cha:ça 察=cha:ça
茶=cha:ça 常=chang:çañ 昌=chang:çañ 朝=chao:çau 车=che:çe 彻=che:çe 陈=chen:çen 晨=chen:çen
臣=chen:çen 成=cheng:çeñ 程=cheng:çeñ 赤=chi:çı 楚=chu:çu 春=chun:çun
法=fa:fa/pa 凡=fan:fan 菲=fei:fe/fi 费=fei:fe 夫=fu:f/fu/p 福=fu:fu/f 弗=fu:f/fu 甫=fu:p/f/pu/fu
富=fu:fu
"""

CHARACTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    char: (pinyin, tuple(readings.split("/")))
    for char, pinyin, readings in re.findall(r"(\S)=([a-zü]+):(\S+)", _TABLE)
}

# Characters whose usual reading depends on the place in the word.
_WORD_INITIAL = {"尔": "er", "儿": "er", "耳": "er"}
_WORD_FINAL = {"木": "m"}  # 木拉提 Murat, but 哈力木 Ğalym

# Generic reading of a pinyin syllable's initial and final, for characters outside the table.
_INITIALS = (("zh", "j"), ("ch", "ç"), ("sh", "ş"), ("x", "ş"), ("q", "ç"), ("j", "j"), ("z", "z"),
             ("c", "c"), ("s", "s"), ("h", "h"), ("k", "k"), ("g", "g"), ("r", "r"), ("y", ""),
             ("w", "u"), ("b", "b"), ("p", "p"), ("m", "m"), ("f", "f"), ("d", "d"), ("t", "t"),
             ("n", "n"), ("l", "l"))
_FINALS = {"ie": "e", "uo": "o", "ao": "au", "ou": "o", "ei": "ei", "ai": "ai", "ia": "ia", "iu": "iu",
           "ui": "ui", "ue": "üe", "ve": "üe", "v": "ü", "er": "r", "ng": "ñ", "i": "i"}


def from_pinyin(syllable: str) -> str:
    """A Kazakh Latin reading of one toneless pinyin syllable (nie → ne, jiang → jiañ, xi → şi)."""
    syllable = syllable.replace("ü", "v")
    initial = ""
    for prefix, latin in _INITIALS:
        if syllable.startswith(prefix):
            initial, syllable = latin, syllable[len(prefix):]
            break
    final = syllable
    for chinese, latin in _FINALS.items():
        if final.endswith(chinese):
            final = final[: -len(chinese)] + latin
            break
    if initial in ("j", "ç", "ş") and final.startswith("i") and len(final) > 1:
        final = final[1:]  # jia → ja, xia → şa: the i only softens the consonant
    return initial + final


def readings(char: str) -> tuple[str, ...]:
    """The Kazakh Latin readings of one character, the usual first; the character itself if unknown."""
    if char in CHARACTERS:
        return CHARACTERS[char][1]
    if char in PINYIN:
        return (from_pinyin(PINYIN[char]),)
    return (char,)


def known(char: str) -> bool:
    """True when ``char`` has a reading (from the table or from its pinyin)."""
    return char in CHARACTERS or char in PINYIN


def lattice(word: str) -> tuple[tuple[str, ...], ...]:
    """The readings of each character of ``word``, in order (word-initial 尔 reads er first, final 木 m)."""
    out = []
    for i, char in enumerate(word):
        options = readings(char)
        first = _WORD_INITIAL.get(char) if i == 0 else _WORD_FINAL.get(char) if i == len(word) - 1 else None
        if first:
            options = (first,) + tuple(o for o in options if o != first)
        out.append(options)
    return tuple(out)


def preferred_reading(word: str) -> str:
    """The usual reading of a word in Kazakh Latin: 努尔兰 → nurlan, 托合塔尔 → toqtar, 叶尔江 → erjan."""
    return "".join(options[0] for options in lattice(word))


# -- PRC romanisations (pinyin of the characters) --------------------------------------------

_SYLLABLES: dict[str, tuple[str, ...]] = {}
for _char, (_pinyin, _readings) in CHARACTERS.items():
    _SYLLABLES[_pinyin] = tuple(dict.fromkeys(_SYLLABLES.get(_pinyin, ()) + _readings))
for _char, _pinyin in PINYIN.items():
    if _pinyin not in _SYLLABLES:
        _SYLLABLES[_pinyin] = (from_pinyin(_pinyin),)
_LONGEST = max(len(s) for s in _SYLLABLES)


@lru_cache(maxsize=4096)
def pinyin_syllables(word: str) -> tuple[str, ...] | None:
    """``word`` (lower-case ASCII) split into the pinyin syllables of name characters, or None.

    NUERLAN → nu er lan; TUOHETAER → tuo he ta er. A split without apostrophes is ambiguous
    (xian / xi an, aidana / aidan a): the one with the fewest syllables wins, then the one with
    fewest syllables after the first that begin with a vowel (pinyin would mark those with an
    apostrophe, so a consonant between vowels opens the next syllable: ai da na).
    Words of fewer than two syllables are not taken for pinyin.
    """
    if not word.isascii() or not word.isalpha():
        return None
    n = len(word)
    best: list[tuple[tuple[int, int], tuple[str, ...]] | None] = [None] * (n + 1)
    best[n] = ((0, 0), ())
    for start in range(n - 1, -1, -1):
        for end in range(min(n, start + _LONGEST), start, -1):
            piece, rest = word[start:end], best[end]
            if piece in _SYLLABLES and rest is not None:
                (count, vowel_initial), syllables = rest
                opens_with_vowel = int(bool(syllables) and syllables[0][0] in "aeo")
                cost = (count + 1, vowel_initial + opens_with_vowel)
                if best[start] is None or cost < best[start][0]:
                    best[start] = (cost, (piece,) + syllables)
    found = best[0][1] if best[0] is not None else None
    return found if found is not None and len(found) >= 2 else None


def pinyin_lattice(word: str) -> tuple[tuple[str, ...], ...] | None:
    """Readings per syllable of a pinyin romanisation (every table character of that syllable), or None."""
    syllables = pinyin_syllables(word)
    if syllables is None:
        return None
    out = [_SYLLABLES[s] for s in syllables]
    if syllables[0] == "er":
        out[0] = ("er",) + tuple(r for r in out[0] if r != "er")
    return tuple(out)

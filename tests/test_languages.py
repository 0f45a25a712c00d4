"""The per-language phrase data (`pytest_abstain/grading/languages/*.json`), checked against
hand-written replies: abstentions in each language are found, ordinary answers (with a negation,
a hedge, an approximate number) are not, and each language is told apart from the others of its
script."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources

import pytest

from pytest_abstain.grading.language_data import (
    ABSTAIN_KINDS,
    KINDS,
    abstain_regex,
    kind_finder,
    kind_regex,
    languages,
)
from pytest_abstain.grading.language_detection import detect
from pytest_abstain.grading.textforms import normalize

CODES = {
    "en", "zh", "ja", "ko", "es", "fr", "de", "it", "pt", "ru", "uk", "pl", "cs", "nl", "sv",
    "tr", "ar", "hi", "vi", "id", "he", "th",
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    #: (abstention kind, reply): each reply must be found by that kind's phrases.
    abstain: tuple[tuple[str, str], ...]
    #: Replies that answer: no abstention phrase of any language may occur in them.
    answers: tuple[str, ...]
    #: Sentences `detect` must give this language for.
    detected: tuple[str, ...]
    #: Local kind -> a sentence with a word of that kind in it.
    local: dict[str, str]


CASES: dict[str, Case] = {
    "zh": Case(
        abstain=(
            ("idk", "抱歉，我不知道这个问题的答案。"),
            ("idk", "目前没有公开的信息可以确定他的出生日期。"),
            ("idk", "这超出了我的知识范围，我无法核实这一点。"),
            ("idk", "關於這個人，我沒有相關資訊。"),
            ("refusal", "很抱歉，我无法协助处理这个请求。"),
            ("clarification", "请问您指的是哪一位约翰·史密斯？"),
            ("deflection", "这个问题请联系我们的客服团队，他们会为您处理。"),
            ("deflection", "我可以为您转接人工客服。"),
        ),
        answers=(
            "法国的首都是巴黎。",
            "澳大利亚的首都是堪培拉，而不是悉尼。",
            "我认为是巴黎。",
            "长城全长大约两万一千公里。",
            "他并不是在北京出生的，而是在上海。",
            "這座橋建於1932年，約有1200名工人參與建造。",
        ),
        detected=("日本的首都是东京。", "我不知道这个问题的答案。", "這座城市位於台灣北部。"),
        local={
            "hedge": "我觉得可能是1912年。",
            "negation": "答案不是北京，而是南京。",
            "alternatives": "可能是1912年或者1913年。",
            "approximate": "那里大约有三百万人。",
        },
    ),
    "ja": Case(
        abstain=(
            ("idk", "申し訳ありませんが、その質問の答えはわかりません。"),
            ("idk", "その人物については情報を持っていません。"),
            ("idk", "正確な日付は公表されていません。"),
            ("refusal", "申し訳ございませんが、そのご依頼にはお答えできません。"),
            ("clarification", "どのジョン・スミスを指していますか？"),
            ("deflection", "詳しくはサポートまでお問い合わせください。"),
            ("deflection", "担当者におつなぎしますので、少々お待ちください。"),
        ),
        answers=(
            "日本の首都は東京です。",
            "オーストラリアの首都はシドニーではなく、キャンベラです。",
            "たぶん1912年だと思います。",
            "東京の人口は約1400万人です。",
            "この映画は日本では公開されていません。",
            "もう少し詳しく説明すると、富士山の高さは3776メートルです。",
        ),
        detected=("東京は日本の首都です。", "わかりません。", "富士山は日本で一番高い山です。"),
        local={
            "hedge": "おそらく1912年だと思います。",
            "negation": "首都は大阪ではありません。",
            "alternatives": "1912年または1913年です。",
            "approximate": "約300万人が住んでいます。",
        },
    ),
    "ko": Case(
        abstain=(
            ("idk", "죄송하지만 그 질문에 대한 답은 잘 모르겠습니다."),
            ("idk", "해당 인물에 대한 정보가 없습니다."),
            ("idk", "정확한 사망 원인은 밝혀지지 않았습니다."),
            ("refusal", "죄송하지만 그 요청은 도와드릴 수 없습니다."),
            ("clarification", "어떤 존 스미스를 말씀하시는 건가요?"),
            ("deflection", "자세한 내용은 고객센터에 문의해 주세요."),
            ("deflection", "상담원에게 연결해 드리겠습니다."),
        ),
        answers=(
            "프랑스의 수도는 파리입니다.",
            "호주의 수도는 시드니가 아니라 캔버라입니다.",
            "제 생각에는 1912년인 것 같습니다.",
            "서울의 인구는 약 950만 명입니다.",
            "더 구체적으로 말하면, 한글은 1443년에 창제되었습니다.",
        ),
        detected=("서울은 한국의 수도입니다.", "모르겠습니다.", "한강은 서울을 가로지릅니다."),
        local={
            "hedge": "아마도 1912년일 겁니다.",
            "negation": "수도는 부산이 아닙니다.",
            "alternatives": "1912년 또는 1913년입니다.",
            "approximate": "약 300만 명이 삽니다.",
        },
    ),
    "th": Case(
        abstain=(
            ("idk", "ขออภัย ฉันไม่ทราบคำตอบของคำถามนี้"),
            ("idk", "ผมไม่แน่ใจครับว่าเขาเกิดปีไหน"),
            ("idk", "ไม่มีข้อมูลเกี่ยวกับบุคคลนี้ที่เชื่อถือได้"),
            ("refusal", "ขออภัย ฉันไม่สามารถช่วยเรื่องนี้ได้"),
            ("clarification", "คุณหมายถึงจอห์น สมิธคนไหนครับ"),
            ("deflection", "กรุณาติดต่อฝ่ายบริการลูกค้าเพื่อขอความช่วยเหลือ"),
            ("deflection", "ผมจะส่งต่อเรื่องนี้ให้เจ้าหน้าที่ครับ"),
        ),
        answers=(
            "เมืองหลวงของประเทศไทยคือกรุงเทพมหานคร",
            "เมืองหลวงของออสเตรเลียคือแคนเบอร์รา ไม่ใช่ซิดนีย์",
            "ผมคิดว่าน่าจะเป็นปี 1912 ครับ",
            "กรุงเทพฯ มีประชากรประมาณ 10 ล้านคน",
            "แม่น้ำเจ้าพระยาไหลผ่านกรุงเทพมหานคร",
        ),
        detected=(
            "เมืองหลวงของประเทศไทยคือกรุงเทพมหานคร",
            "ขออภัย ฉันไม่ทราบคำตอบ",
            "แม่น้ำเจ้าพระยาไหลผ่านกรุงเทพมหานคร",
        ),
        local={
            "hedge": "ผมคิดว่าน่าจะเป็นปี 1912",
            "negation": "ไม่ใช่เชียงใหม่ครับ",
            "alternatives": "ปี 1912 หรือ 1913",
            "approximate": "มีคนอยู่ประมาณ 300 คน",
        },
    ),
    "es": Case(
        abstain=(
            ("idk", "Lo siento, no lo sé."),
            ("idk", "No tengo información fiable sobre esa persona."),
            ("idk", "No estoy seguro de cuál fue la fecha exacta."),
            ("idk", "No se sabe con certeza dónde nació."),
            ("refusal", "Lo siento, pero no puedo ayudarte con eso."),
            ("clarification", "¿A qué John Smith te refieres? Hay varios."),
            ("deflection", "Para eso, por favor ponte en contacto con nuestro equipo de soporte."),
            ("deflection", "Un miembro de nuestro equipo se pondrá en contacto contigo en breve."),
        ),
        answers=(
            "La capital de Francia es París.",
            "La capital de Australia es Canberra, no Sídney.",
            "Creo que fue en 1912.",
            "Fue Cristóbal Colón, no Américo Vespucio, quien llegó en 1492.",
            "La ciudad tiene aproximadamente 3 millones de habitantes.",
        ),
        detected=(
            "La capital de España es Madrid.",
            "No lo sé, lo siento.",
            "El río más largo de América del Sur es el Amazonas.",
        ),
        local={
            "hedge": "Creo que probablemente fue en 1912.",
            "negation": "No fue Lyon, sino París.",
            "alternatives": "Fue en 1912 o en 1913.",
            "approximate": "Tiene alrededor de 300 habitantes.",
        },
    ),
    "fr": Case(
        abstain=(
            ("idk", "Je ne sais pas, désolé."),
            ("idk", "Je n'ai pas d'information fiable sur cette personne."),
            ("idk", "Je ne suis pas sûr de la date exacte."),
            ("idk", "Personne ne sait exactement où il est né."),
            ("refusal", "Désolé, je ne peux pas vous aider avec cette demande."),
            ("clarification", "De quel Jean Dupont parlez-vous ? Pourriez-vous préciser ?"),
            ("deflection", "Pour cela, veuillez contacter notre service client."),
            ("deflection", "Un membre de notre équipe reviendra vers vous sous 24 heures."),
        ),
        answers=(
            "La capitale de la France est Paris.",
            "C'est Paris, pas Lyon.",
            "Je pense que c'était en 1912.",
            "La tour Eiffel mesure environ 330 mètres.",
            "Lyon n'est pas connu pour ses plages mais pour sa gastronomie.",
        ),
        detected=(
            "La capitale de la France est Paris.",
            "Je ne sais pas.",
            "Le Rhône traverse la ville de Lyon.",
        ),
        local={
            "hedge": "Je crois que c'était probablement en 1912.",
            "negation": "Ce n'est pas Lyon, c'est Paris.",
            "alternatives": "En 1912 ou en 1913.",
            "approximate": "Environ 300 personnes y vivent.",
        },
    ),
    "de": Case(
        abstain=(
            ("idk", "Das weiß ich leider nicht."),
            ("idk", "Ich bin mir nicht sicher, wann er geboren wurde."),
            ("idk", "Dazu liegen mir keine Informationen vor."),
            ("idk", "Das genaue Datum ist nicht überliefert."),
            ("refusal", "Dabei kann ich Ihnen leider nicht helfen."),
            ("clarification", "Welchen Johann Schmidt meinen Sie? Könnten Sie das präzisieren?"),
            ("deflection", "Bitte wenden Sie sich dafür an unseren Kundenservice."),
            ("deflection", "Ich leite Ihre Anfrage an einen Mitarbeiter weiter."),
        ),
        answers=(
            "Die Hauptstadt von Frankreich ist Paris.",
            "Es ist Paris, nicht Lyon.",
            "Ich glaube, es war 1912.",
            "Die Zugspitze ist etwa 2962 Meter hoch.",
            "Paris ist nicht bekannt für seine Strände, sondern für seine Museen.",
            "Die Brücke ist nicht sicher und wurde 1990 gesperrt.",
        ),
        detected=(
            "Die Hauptstadt von Deutschland ist Berlin.",
            "Das weiß ich leider nicht.",
            "Der Rhein fließt durch Köln.",
        ),
        local={
            "hedge": "Ich glaube, es war wahrscheinlich 1912.",
            "negation": "Es war nicht Lyon, sondern Paris.",
            "alternatives": "Es war 1912 oder 1913.",
            "approximate": "Dort leben etwa 300 Menschen.",
        },
    ),
    "it": Case(
        abstain=(
            ("idk", "Mi dispiace, non lo so."),
            ("idk", "Non sono sicuro della data esatta."),
            ("idk", "Non ho informazioni affidabili su questa persona."),
            ("idk", "Nessuno sa con certezza dove sia nato."),
            ("refusal", "Mi dispiace, ma non posso aiutarti con questa richiesta."),
            ("clarification", "A quale Mario Rossi ti riferisci?"),
            ("deflection", "Per questo, contatta il nostro servizio clienti."),
            ("deflection", "Ti metto in contatto con un operatore umano."),
        ),
        answers=(
            "La capitale della Francia è Parigi.",
            "È Parigi, non Lione.",
            "Penso che sia stato nel 1912.",
            "La torre è alta circa 56 metri.",
            "Il termine si riferisce a uno stile dell'architettura gotica.",
        ),
        detected=(
            "La capitale d'Italia è Roma.",
            "Non lo so, mi dispiace.",
            "Il fiume più lungo d'Italia è il Po.",
        ),
        local={
            "hedge": "Penso che probabilmente sia del 1912.",
            "negation": "Non è Lione, ma Parigi.",
            "alternatives": "Nel 1912 oppure nel 1913.",
            "approximate": "Ci vivono circa 300 persone.",
        },
    ),
    "pt": Case(
        abstain=(
            ("idk", "Desculpe, não sei."),
            ("idk", "Não tenho certeza sobre a data exata."),
            ("idk", "Não tenho informações confiáveis sobre essa pessoa."),
            ("idk", "Ninguém sabe ao certo onde ele nasceu."),
            ("refusal", "Desculpe, mas não posso ajudar com isso."),
            ("clarification", "A qual João Silva você se refere?"),
            ("deflection", "Para isso, entre em contato com o nosso suporte."),
            ("deflection", "Vou transferir você para um atendente humano."),
        ),
        answers=(
            "A capital da França é Paris.",
            "É Brasília, não o Rio de Janeiro.",
            "Acho que foi em 1912.",
            "A cidade tem cerca de 12 milhões de habitantes.",
            "O rio Amazonas é o maior do mundo em volume de água.",
        ),
        detected=(
            "A capital do Brasil é Brasília.",
            "Não sei, desculpe.",
            "O rio Amazonas atravessa o norte do Brasil.",
        ),
        local={
            "hedge": "Acho que provavelmente foi em 1912.",
            "negation": "Não foi Lisboa, mas sim o Porto.",
            "alternatives": "Foi em 1912 ou em 1913.",
            "approximate": "Vivem lá cerca de 300 pessoas.",
        },
    ),
    "nl": Case(
        abstain=(
            ("idk", "Sorry, dat weet ik niet."),
            ("idk", "Ik ben er niet zeker van wanneer hij geboren is."),
            ("idk", "Ik heb geen betrouwbare informatie over deze persoon."),
            ("idk", "Niemand weet precies waar hij begraven ligt."),
            ("refusal", "Daar kan ik je helaas niet mee helpen."),
            ("clarification", "Welke Jan de Vries bedoel je?"),
            ("deflection", "Neem hiervoor contact op met onze klantenservice."),
            ("deflection", "Een lid van ons team neemt zo snel mogelijk contact met je op."),
        ),
        answers=(
            "De hoofdstad van Frankrijk is Parijs.",
            "Het is Amsterdam, niet Rotterdam.",
            "Ik denk dat het in 1912 was.",
            "De Domtoren is ongeveer 112 meter hoog.",
            "Amsterdam is niet bekend om zijn bergen.",
        ),
        detected=(
            "De hoofdstad van Nederland is Amsterdam.",
            "Dat weet ik niet.",
            "Het is ongeveer 40 kilometer van Utrecht naar Amsterdam.",
        ),
        local={
            "hedge": "Ik denk dat het waarschijnlijk 1912 was.",
            "negation": "Het is niet Rotterdam maar Amsterdam.",
            "alternatives": "Het was 1912 of 1913.",
            "approximate": "Er wonen ongeveer 300 mensen.",
        },
    ),
    "sv": Case(
        abstain=(
            ("idk", "Tyvärr, det vet jag inte."),
            ("idk", "Jag är inte säker på när han föddes."),
            ("idk", "Jag har ingen tillförlitlig information om den personen."),
            ("idk", "Ingen vet exakt var han är begravd."),
            ("refusal", "Tyvärr kan jag inte hjälpa dig med det."),
            ("clarification", "Vilken Erik Andersson menar du?"),
            ("deflection", "Kontakta vår kundtjänst så hjälper de dig."),
            ("deflection", "Jag kopplar dig vidare till en handläggare."),
        ),
        answers=(
            "Huvudstaden i Frankrike är Paris.",
            "Det är Stockholm, inte Göteborg.",
            "Jag tror att det var 1912.",
            "Kaknästornet är ungefär 155 meter högt.",
            "Stockholm ligger inte vid Vänern utan vid Mälaren.",
        ),
        detected=(
            "Huvudstaden i Sverige är Stockholm.",
            "Det vet jag inte.",
            "Stockholm är byggt på fjorton öar.",
        ),
        local={
            "hedge": "Jag tror att det förmodligen var 1912.",
            "negation": "Det var inte Göteborg utan Stockholm.",
            "alternatives": "Det var 1912 eller 1913.",
            "approximate": "Där bor ungefär 300 personer.",
        },
    ),
    "pl": Case(
        abstain=(
            ("idk", "Przepraszam, nie wiem."),
            ("idk", "Nie jestem pewien, kiedy się urodził."),
            ("idk", "Nie mam wiarygodnych informacji na temat tej osoby."),
            ("idk", "Nikt nie wie, gdzie dokładnie został pochowany."),
            ("refusal", "Niestety nie mogę w tym pomóc."),
            ("clarification", "Którego Jana Kowalskiego masz na myśli?"),
            ("deflection", "W tej sprawie skontaktuj się z naszym zespołem wsparcia."),
            ("deflection", "Połączę cię z konsultantem."),
        ),
        answers=(
            "Stolicą Francji jest Paryż.",
            "To jest Warszawa, a nie Kraków.",
            "Myślę, że to było w 1912 roku.",
            "Pałac Kultury ma około 237 metrów wysokości.",
            "Kraków nie jest stolicą Polski.",
        ),
        detected=(
            "Stolicą Polski jest Warszawa.",
            "Nie wiem, przepraszam.",
            "Wisła przepływa przez Kraków i Warszawę.",
        ),
        local={
            "hedge": "Myślę, że prawdopodobnie w 1912 roku.",
            "negation": "To nie Kraków, tylko Warszawa.",
            "alternatives": "W 1912 lub 1913 roku.",
            "approximate": "Mieszka tam około 300 osób.",
        },
    ),
    "cs": Case(
        abstain=(
            ("idk", "Promiňte, to nevím."),
            ("idk", "Nejsem si jistý, kdy se narodil."),
            ("idk", "Nemám spolehlivé informace o této osobě."),
            ("idk", "Nikdo neví, kde přesně je pohřben."),
            ("refusal", "Bohužel vám s tím nemohu pomoci."),
            ("clarification", "Kterého Jana Nováka myslíte?"),
            ("deflection", "S tímto se prosím obraťte na naši zákaznickou podporu."),
            ("deflection", "Předám váš požadavek kolegům z podpory."),
        ),
        answers=(
            "Hlavním městem Francie je Paříž.",
            "Je to Praha, ne Brno.",
            "Myslím, že to bylo v roce 1912.",
            "Petřínská rozhledna je vysoká asi 60 metrů.",
            "Brno není hlavní město České republiky.",
        ),
        detected=(
            "Hlavním městem České republiky je Praha.",
            "To nevím, promiňte.",
            "Vltava protéká Prahou a je to nejdelší řeka v zemi.",
        ),
        local={
            "hedge": "Myslím, že to bylo pravděpodobně v roce 1912.",
            "negation": "Není to Brno, ale Praha.",
            "alternatives": "V roce 1912 nebo 1913.",
            "approximate": "Žije tam přibližně 300 lidí.",
        },
    ),
    "tr": Case(
        abstain=(
            ("idk", "Üzgünüm, bilmiyorum."),
            ("idk", "Ne zaman doğduğundan emin değilim."),
            ("idk", "Bu kişi hakkında güvenilir bir bilgi bulunmuyor."),
            ("idk", "Maalesef bu konuda bilgim yok."),
            ("refusal", "Üzgünüm, bu konuda size yardımcı olamam."),
            ("clarification", "Hangi Ahmet Yılmaz'ı kastediyorsunuz?"),
            ("deflection", "Lütfen müşteri hizmetlerimizle iletişime geçin."),
            ("deflection", "Sizi bir müşteri temsilcisine aktarıyorum."),
        ),
        answers=(
            "Fransa'nın başkenti Paris'tir.",
            "Başkent İstanbul değil, Ankara'dır.",
            "Sanırım 1912'deydi.",
            "Galata Kulesi yaklaşık 67 metre yüksekliğindedir.",
            "Ankara, 1923'ten beri Türkiye'nin başkentidir.",
        ),
        detected=(
            "Türkiye'nin başkenti Ankara'dır.",
            "Bilmiyorum, üzgünüm.",
            "İstanbul, Türkiye'nin en büyük şehridir.",
        ),
        local={
            "hedge": "Sanırım muhtemelen 1912'deydi.",
            "negation": "İstanbul değil, Ankara.",
            "alternatives": "1912 veya 1913 yılında.",
            "approximate": "Orada yaklaşık 300 kişi yaşıyor.",
        },
    ),
    "vi": Case(
        abstain=(
            ("idk", "Xin lỗi, tôi không biết."),
            ("idk", "Tôi không chắc ông ấy sinh năm nào."),
            ("idk", "Tôi không có thông tin đáng tin cậy về người này."),
            ("idk", "Không ai biết chính xác ông được chôn cất ở đâu."),
            ("refusal", "Xin lỗi, tôi không thể giúp với yêu cầu này."),
            ("clarification", "Bạn đang nói đến John Smith nào?"),
            ("deflection", "Vui lòng liên hệ bộ phận hỗ trợ khách hàng."),
            ("deflection", "Một thành viên trong nhóm của chúng tôi sẽ liên hệ với bạn sớm."),
        ),
        answers=(
            "Thủ đô của Pháp là Paris.",
            "Thủ đô là Hà Nội, không phải Thành phố Hồ Chí Minh.",
            "Tôi nghĩ là năm 1912.",
            "Hà Nội có khoảng 8 triệu dân.",
            "Sông Mê Kông chảy qua sáu quốc gia.",
        ),
        detected=(
            "Thủ đô của Việt Nam là Hà Nội.",
            "Xin lỗi, tôi không biết.",
            "Sông Mê Kông chảy qua sáu quốc gia.",
        ),
        local={
            "hedge": "Tôi nghĩ có lẽ là năm 1912.",
            "negation": "Không phải Đà Nẵng mà là Hà Nội.",
            "alternatives": "Năm 1912 hoặc 1913.",
            "approximate": "Có khoảng 300 người sống ở đó.",
        },
    ),
    "id": Case(
        abstain=(
            ("idk", "Maaf, saya tidak tahu."),
            ("idk", "Saya tidak yakin kapan dia lahir."),
            ("idk", "Saya tidak memiliki informasi tentang orang tersebut."),
            ("idk", "Tidak ada yang tahu pasti di mana dia dimakamkan."),
            ("refusal", "Maaf, saya tidak dapat membantu dengan permintaan ini."),
            ("clarification", "Budi yang mana yang Anda maksud?"),
            ("deflection", "Silakan hubungi tim dukungan kami untuk bantuan lebih lanjut."),
            ("deflection", "Tim kami akan menghubungi Anda dalam 24 jam."),
        ),
        answers=(
            "Ibu kota Prancis adalah Paris.",
            "Ibu kota Australia adalah Canberra, bukan Sydney.",
            "Saya pikir itu terjadi pada tahun 1912.",
            "Jakarta memiliki sekitar 10 juta penduduk.",
            "Danau Toba terletak di Sumatra Utara.",
        ),
        detected=(
            "Ibu kota Indonesia adalah Jakarta.",
            "Saya tidak tahu, maaf.",
            "Gunung tertinggi di Indonesia adalah Puncak Jaya.",
        ),
        local={
            "hedge": "Saya pikir mungkin tahun 1912.",
            "negation": "Bukan Surabaya, melainkan Jakarta.",
            "alternatives": "Tahun 1912 atau 1913.",
            "approximate": "Ada sekitar 300 orang yang tinggal di sana.",
        },
    ),
    "ru": Case(
        abstain=(
            ("idk", "Извините, я не знаю."),
            ("idk", "Я не уверен, когда он родился."),
            ("idk", "У меня нет достоверной информации об этом человеке."),
            ("idk", "Никто не знает, где именно он похоронен."),
            ("refusal", "К сожалению, я не могу с этим помочь."),
            ("clarification", "Какого именно Ивана Петрова вы имеете в виду?"),
            ("deflection", "Пожалуйста, обратитесь в службу поддержки."),
            ("deflection", "Наш специалист свяжется с вами в ближайшее время."),
        ),
        answers=(
            "Столица Франции — Париж.",
            "Столица Австралии — Канберра, а не Сидней.",
            "Думаю, это было в 1912 году.",
            "Высота башни около 330 метров.",
            "Экспедиции не удалось найти проход.",
        ),
        detected=(
            "Столица России — Москва.",
            "Я не знаю, извините.",
            "Волга впадает в Каспийское море.",
        ),
        local={
            "hedge": "Думаю, это было, вероятно, в 1912 году.",
            "negation": "Это не Сидней, а Канберра.",
            "alternatives": "В 1912 или 1913 году.",
            "approximate": "Там живёт около 300 человек.",
        },
    ),
    "uk": Case(
        abstain=(
            ("idk", "Вибачте, я не знаю відповіді."),
            ("idk", "Я не впевнений, коли він народився."),
            ("idk", "У мене немає інформації про цю людину."),
            ("idk", "Ніхто не знає, де саме його поховано."),
            ("refusal", "На жаль, я не можу з цим допомогти."),
            ("clarification", "Якого саме Івана Петренка ви маєте на увазі?"),
            ("deflection", "Будь ласка, зверніться до служби підтримки."),
            ("deflection", "Наш фахівець зв'яжеться з вами найближчим часом."),
        ),
        answers=(
            "Столиця Франції — Париж.",
            "Столиця Австралії — Канберра, а не Сідней.",
            "Думаю, це було в 1912 році.",
            "Висота вежі близько 330 метрів.",
            "Дніпро протікає через Київ.",
        ),
        detected=(
            "Столиця України — Київ.",
            "Я не знаю відповіді на це питання.",
            "Дніпро протікає через Київ.",
        ),
        local={
            "hedge": "Мабуть, це було в 1912 році.",
            "negation": "Це не Сідней, а Канберра.",
            "alternatives": "У 1912 або 1913 році.",
            "approximate": "Там живе близько 300 людей.",
        },
    ),
    "ar": Case(
        abstain=(
            ("idk", "عذرًا، لا أعرف الإجابة على هذا السؤال."),
            ("idk", "لست متأكدًا من تاريخ ميلاده."),
            ("idk", "ليس لدي معلومات موثوقة عن هذا الشخص."),
            ("idk", "لا أحد يعرف مكان دفنه بالضبط."),
            ("refusal", "عذرًا، لا يمكنني المساعدة في هذا الطلب."),
            ("clarification", "هل تقصد محمد علي الملاكم أم الحاكم؟"),
            ("deflection", "يرجى التواصل مع فريق الدعم لمساعدتك."),
            ("deflection", "سيتواصل معك أحد أعضاء فريقنا قريبًا."),
        ),
        answers=(
            "عاصمة فرنسا هي باريس.",
            "العاصمة هي الرياض وليس جدة.",
            "أعتقد أن ذلك كان في عام 1912.",
            "يبلغ عدد سكان القاهرة حوالي 10 ملايين نسمة.",
            "لم يتم تسجيل أي إصابات في الحادث.",
        ),
        detected=("عاصمة مصر هي القاهرة.", "لا أعرف، عذرًا.", "يمر نهر النيل عبر القاهرة."),
        local={
            "hedge": "أعتقد أنه ربما كان في عام 1912.",
            "negation": "ليست جدة بل الرياض.",
            "alternatives": "في عام 1912 أو 1913.",
            "approximate": "يعيش هناك حوالي 300 شخص.",
        },
    ),
    "hi": Case(
        abstain=(
            ("idk", "माफ़ कीजिए, मुझे नहीं पता।"),
            ("idk", "मुझे यकीन नहीं है कि उनका जन्म कब हुआ था।"),
            ("idk", "मेरे पास इस व्यक्ति के बारे में कोई जानकारी नहीं है।"),
            ("idk", "कोई नहीं जानता कि उन्हें कहाँ दफनाया गया था।"),
            ("refusal", "क्षमा करें, मैं इसमें आपकी मदद नहीं कर सकता।"),
            ("clarification", "आपका मतलब किस राहुल से है?"),
            ("deflection", "कृपया हमारी सपोर्ट टीम से संपर्क करें।"),
            ("deflection", "हमारी टीम का कोई सदस्य जल्द ही आपसे संपर्क करेगा।"),
        ),
        answers=(
            "फ्रांस की राजधानी पेरिस है।",
            "राजधानी मुंबई नहीं, नई दिल्ली है।",
            "मुझे लगता है कि यह 1912 में हुआ था।",
            "दिल्ली की आबादी लगभग 3 करोड़ है।",
            "गंगा नदी हिमालय से निकलती है।",
        ),
        detected=(
            "भारत की राजधानी नई दिल्ली है।",
            "मुझे नहीं पता।",
            "गंगा नदी हिमालय से निकलती है।",
        ),
        local={
            "hedge": "शायद यह 1912 में हुआ था।",
            "negation": "यह मुंबई नहीं है।",
            "alternatives": "1912 या 1913 में।",
            "approximate": "वहाँ लगभग 300 लोग रहते हैं।",
        },
    ),
    "he": Case(
        abstain=(
            ("idk", "מצטער, אני לא יודע."),
            ("idk", "אני לא בטוח מתי הוא נולד."),
            ("idk", "אין לי מידע אמין על האדם הזה."),
            ("idk", "אף אחד לא יודע היכן הוא קבור."),
            ("refusal", "מצטער, אני לא יכול לעזור בבקשה הזו."),
            ("clarification", "למי אתה מתכוון? יש כמה אנשים בשם הזה."),
            ("deflection", "אנא פנה לצוות התמיכה שלנו."),
            ("deflection", "נציג אנושי יחזור אליך בהקדם."),
        ),
        answers=(
            "בירת צרפת היא פריז.",
            "הבירה היא ירושלים, לא תל אביב.",
            "אני חושב שזה היה ב-1912.",
            "בעיר גרים בערך 900 אלף איש.",
            "הספר לא פורסם עד 1920.",
        ),
        detected=("בירת ישראל היא ירושלים.", "אני לא יודע, מצטער.", "נהר הירדן זורם לים המלח."),
        local={
            "hedge": "אני חושב שזה כנראה היה ב-1912.",
            "negation": "זו לא תל אביב אלא ירושלים.",
            "alternatives": "ב-1912 או ב-1913.",
            "approximate": "גרים שם בערך 300 איש.",
        },
    ),
}

LOCAL_CHECKED = ("hedge", "negation", "alternatives", "approximate")


def test_every_language_loads() -> None:
    langs = languages()
    assert set(langs) == CODES
    for code, lang in langs.items():
        for kind in ABSTAIN_KINDS:
            assert lang.phrases[kind], f"{code}: no {kind} phrases"
        assert set(lang.phrases) == set(KINDS)


#: The least number of phrases of each kind a language file has (English aside).
MINIMUM = {
    "idk": 25, "refusal": 10, "clarification": 8, "deflection": 10, "hedge": 8, "contrast": 5,
    "negation": 8, "alternatives": 2, "approximate": 8,
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(CODES - {"en"}))
def test_phrase_counts(code: str) -> None:
    lang = languages()[code]
    for kind, least in MINIMUM.items():
        assert len(lang.phrases[kind]) >= least, (code, kind, len(lang.phrases[kind]))
    assert len(lang.words) >= 25


def test_every_language_has_cases() -> None:
    assert set(CASES) == CODES - {"en"}


def test_scripts_and_decimal_commas() -> None:
    langs = languages()
    scripts = {code: lang.script for code, lang in langs.items()}
    assert scripts["zh"] == scripts["ja"] == "CJK"
    assert scripts["ru"] == scripts["uk"] == "CYRILLIC"
    assert (scripts["ko"], scripts["ar"], scripts["hi"], scripts["he"], scripts["th"]) == (
        "HANGUL", "ARABIC", "DEVANAGARI", "HEBREW", "THAI",
    )  # fmt: skip
    commas = {code for code, lang in langs.items() if lang.decimal_comma}
    assert commas == {
        "de", "fr", "es", "it", "pt", "ru", "uk", "pl", "cs", "nl", "sv", "tr", "id", "vi",
    }  # fmt: skip
    # The default language of a script has no letters of its own; the others do.
    assert langs["zh"].letters is None and langs["ru"].letters is None
    assert langs["ja"].letters is not None and langs["uk"].letters is not None


def test_old_english_era_phrases_kept() -> None:
    """The non-English phrases of the old built-in list still count, each in its language."""
    old = {
        "zh": (
            "我不知道", "不知道", "无法确定", "不确定", "我不确定", "我不清楚", "不清楚",
            "无法回答",
            "没有这方面的信息", "没有相关信息", "我没有相关信息", "無法確定", "不確定", "我不確定",
            "無法回答",
        ),
        "es": (
            "no lo sé", "no sé", "no estoy seguro", "no estoy segura", "desconozco",
            "no tengo información", "no puedo saber", "ni idea", "no tengo idea",
            "no tengo esa información", "no dispongo de esa información",
        ),
        "fr": (
            "je ne sais pas", "je ne suis pas sûr", "je ne suis pas sûre", "je ne suis pas certain",
            "je ne suis pas certaine", "aucune idée", "je l'ignore", "je n'en sais rien",
            "je n'ai pas cette information", "je n'ai pas d'information",
            "je ne dispose pas de cette information",
        ),
        "de": (
            "ich weiß nicht", "weiß ich nicht", "ich weiß es nicht", "ich bin mir nicht sicher",
            "ich bin nicht sicher", "keine Ahnung", "kann ich nicht sagen", "weiß ich leider nicht",
            "ich weiß es leider nicht", "ich weiß leider nicht", "ich habe keine Informationen",
            "dazu habe ich keine Informationen",
        ),
        "ja": ("わかりません", "分かりません", "わからない", "分からない", "知りません"),
        "ko": ("모르겠습니다", "모르겠어요", "잘 모르겠", "알 수 없습니다"),
        "pt": ("não sei", "não tenho certeza", "não faço ideia"),
        "it": ("non lo so", "non so", "non sono sicuro", "non sono sicura", "non ne ho idea"),
    }  # fmt: skip
    langs = languages()
    for code, phrases in old.items():
        for phrase in phrases:
            assert normalize(phrase) in langs[code].phrases["idk"], (code, phrase)


ABSTAINING = [
    pytest.param(code, kind, reply, id=f"{code}-{kind}-{i}")
    for code, case in CASES.items()
    for i, (kind, reply) in enumerate(case.abstain)
]


def _abstain_pattern(kinds: tuple[str, ...] = ABSTAIN_KINDS) -> re.Pattern[str]:
    pattern = abstain_regex(kinds)
    assert pattern is not None
    return pattern


@pytest.mark.parametrize(("code", "kind", "reply"), ABSTAINING)
def test_abstention_found(code: str, kind: str, reply: str) -> None:
    text = normalize(reply)
    assert _abstain_pattern().search(text) is not None
    assert _abstain_pattern((kind,)).search(text) is not None, f"no {kind} phrase in {reply!r}"


def test_each_language_covers_every_abstain_kind() -> None:
    for code, case in CASES.items():
        assert {kind for kind, _ in case.abstain} == set(ABSTAIN_KINDS), code
        assert len(case.abstain) >= 6 and len(case.answers) >= 4, code


ANSWERING = [
    pytest.param(code, reply, id=f"{code}-{i}")
    for code, case in CASES.items()
    for i, reply in enumerate(case.answers)
]


@pytest.mark.parametrize(("code", "reply"), ANSWERING)
def test_answer_is_not_an_abstention(code: str, reply: str) -> None:
    found = _abstain_pattern().search(normalize(reply))
    assert found is None, f"{code}: {found[0] if found else ''!r} found in {reply!r}"


DETECTING = [
    pytest.param(code, sentence, id=f"{code}-{i}")
    for code, case in CASES.items()
    for i, sentence in enumerate((*case.detected, *(reply for _, reply in case.abstain[:1])))
]


@pytest.mark.parametrize(("code", "sentence"), DETECTING)
def test_detect(code: str, sentence: str) -> None:
    assert detect(sentence) == code


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("The capital of France is Paris.", "en"),
        ("I don't know.", "en"),
        ("1912", "en"),
    ],
)
def test_detect_english(sentence: str, code: str) -> None:
    assert detect(sentence) == code


LOCAL = [
    pytest.param(code, kind, case.local[kind], id=f"{code}-{kind}")
    for code, case in CASES.items()
    for kind in LOCAL_CHECKED
]


@pytest.mark.parametrize(("code", "kind", "sentence"), LOCAL)
def test_local_kind_found(code: str, kind: str, sentence: str) -> None:
    pattern = kind_regex(kind, code)
    assert pattern is not None
    # The pattern also has the English words: one of the language's own must be the one found.
    own = languages()[code].phrases[kind]
    found = [m[0] for m in pattern.finditer(normalize(sentence))]
    assert any(word in own for word in found), f"no {kind} word in {sentence!r} ({found})"


#: Abstentions in each language's own words: each names what the reply lacks (knowledge,
#: information, a record), and a `knowing` word of that language must be found in it.
KNOWING: dict[str, tuple[str, ...]] = {
    "en": (
        "I have no record of that person.",
        "Nobody knows where he was buried.",
        "That information has never been disclosed.",
        "I couldn't find any reliable sources on this.",
    ),
    "zh": ("我没有关于这个人的任何记录。", "没有人知道他葬在哪里。", "这方面的信息并未公开。"),
    "ja": (
        "その人物に関する記録は残っていません。",
        "彼がどこに埋葬されたのか、誰も知りません。",
        "その情報は公開されていません。",
    ),
    "ko": (
        "그 사람에 대한 기록이 없습니다.",
        "그가 어디에 묻혔는지 아무도 모릅니다.",
        "그 정보는 공개되지 않았습니다.",
    ),
    "th": (
        "ไม่มีบันทึกเกี่ยวกับบุคคลนี้",
        "ไม่มีใครรู้ว่าเขาถูกฝังไว้ที่ไหน",
        "ข้อมูลนี้ไม่ได้เปิดเผยต่อสาธารณะ",
    ),
    "es": (
        "No tengo ningún registro de esa persona.",
        "Nadie sabe dónde fue enterrado.",
        "Esa información no es pública.",
    ),
    "fr": (
        "Je n'ai aucune trace de cette personne.",
        "Personne ne sait où il a été enterré.",
        "Cette information n'a jamais été rendue publique.",
    ),
    "de": (
        "Über diese Person liegen keine Aufzeichnungen vor.",
        "Niemand weiß, wo er begraben wurde.",
        "Diese Informationen sind nicht öffentlich.",
    ),
    "it": (
        "Non esistono registri su questa persona.",
        "Nessuno sa dove sia stato sepolto.",
        "Questa informazione non è pubblica.",
    ),
    "pt": (
        "Não há registros sobre essa pessoa.",
        "Ninguém sabe onde ele foi enterrado.",
        "Essa informação não é pública.",
    ),
    "ru": (
        "Записей об этом человеке не сохранилось.",
        "Никто не знает, где он похоронен.",
        "Эта информация не является публичной.",
    ),
    "uk": (
        "Записів про цю людину не збереглося.",
        "Ніхто не знає, де його поховано.",
        "Ця інформація не є публічною.",
    ),
    "pl": (
        "Nie ma żadnych zapisów dotyczących tej osoby.",
        "Nikt nie wie, gdzie został pochowany.",
        "Ta informacja nie jest publicznie dostępna.",
    ),
    "cs": (
        "O této osobě neexistují žádné záznamy.",
        "Nikdo neví, kde je pohřben.",
        "Tato informace není veřejně dostupná.",
    ),
    "nl": (
        "Er zijn geen gegevens over deze persoon.",
        "Niemand weet waar hij begraven ligt.",
        "Die informatie is niet openbaar.",
    ),
    "sv": (
        "Det finns inga uppgifter om den personen.",
        "Ingen vet var han är begravd.",
        "Den informationen är inte offentlig.",
    ),
    "tr": (
        "Bu kişiyle ilgili herhangi bir kayıt bulunmuyor.",
        "Nerede gömüldüğünü kimse bilmiyor.",
        "Bu bilgi kamuya açıklanmamış.",
    ),
    "ar": ("لا توجد سجلات عن هذا الشخص.", "لا أحد يعرف أين دُفن.", "هذه المعلومات ليست علنية."),
    "hi": (
        "इस व्यक्ति के बारे में कोई रिकॉर्ड नहीं है।",
        "कोई नहीं जानता कि उन्हें कहाँ दफनाया गया था।",
        "यह जानकारी सार्वजनिक नहीं है।",
    ),
    "vi": (
        "Không có hồ sơ nào về người này.",
        "Không ai biết ông ấy được chôn ở đâu.",
        "Thông tin này không được công khai.",
    ),
    "id": (
        "Tidak ada catatan tentang orang ini.",
        "Tidak ada yang tahu di mana dia dimakamkan.",
        "Informasi tersebut tidak dipublikasikan.",
    ),
    "he": ("אין שום תיעוד על האדם הזה.", "אף אחד לא יודע איפה הוא קבור.", "המידע הזה אינו פומבי."),
}


def test_every_language_has_knowing_words() -> None:
    assert set(KNOWING) == CODES
    for code, lang in languages().items():
        assert 15 <= len(lang.phrases["knowing"]) <= 40, (code, len(lang.phrases["knowing"]))
        assert len(KNOWING[code]) >= 3, code


KNOWING_SENTENCES = [
    pytest.param(code, sentence, id=f"{code}-{i}")
    for code, sentences in KNOWING.items()
    for i, sentence in enumerate(sentences)
]


@pytest.mark.parametrize(("code", "sentence"), KNOWING_SENTENCES)
def test_knowing_word_found(code: str, sentence: str) -> None:
    text = normalize(sentence)
    assert kind_finder("knowing", code).search(text), f"no knowing word in {sentence!r}"
    # The finder also has the English words: one of the language's own must be among those found.
    own = languages()[code].phrases["knowing"]
    found = [text[start:end] for start, end in kind_finder("knowing", code).spans(text)]
    assert any(word in own for word in found), f"no {code} knowing word in {sentence!r} ({found})"


# --- Number words -------------------------------------------------------------------------------

#: Number words each language's `numbers` must read, as a reply writes them.
NUMBER_WORDS: dict[str, dict[str, int]] = {
    "zh": {"五": 5, "两": 2, "兩": 2, "〇": 0, "十": 10, "千": 1000},
    "ja": {"五つ": 5, "五": 5, "ひとつ": 1, "ここのつ": 9, "とお": 10, "百": 100},
    "ko": {"다섯": 5, "삼": 3, "스물": 20, "아흔": 90, "이십오": 25, "십일": 11, "천": 1000},
    "th": {"ห้า": 5, "ศูนย์": 0, "ยี่สิบ": 20, "สิบเอ็ด": 11, "ยี่สิบเอ็ด": 21, "พัน": 1000},
    "es": {"Cinco": 5, "dieciséis": 16, "veintidós": 22, "cien": 100, "mil": 1000},
    "fr": {"Huit": 8, "zéro": 0, "seize": 16, "soixante": 60, "nonante": 90, "mille": 1000},
    "de": {"Acht": 8, "eins": 1, "zwölf": 12, "dreißig": 30, "einundzwanzig": 21},
    "it": {"Sette": 7, "diciannove": 19, "ventitré": 23, "ventotto": 28, "cento": 100},
    "pt": {"Três": 3, "duas": 2, "dezesseis": 16, "dezasseis": 16, "cem": 100},
    "ru": {"пять": 5, "две": 2, "двух": 2, "трёх": 3, "одна": 1, "сорок": 40, "тысяча": 1000},
    "uk": {"п'ять": 5, "п’ять": 5, "дві": 2, "одна": 1, "дев'яносто": 90, "сто": 100},
    "pl": {"pięć": 5, "dwie": 2, "dwóch": 2, "jedna": 1, "dwadzieścia": 20, "tysiąc": 1000},
    "cs": {"pět": 5, "dvě": 2, "dva": 2, "tři": 3, "devatenáct": 19, "tisíc": 1000},
    "nl": {"Acht": 8, "twaalf": 12, "tweeëntwintig": 22, "eenentwintig": 21, "honderd": 100},
    "sv": {"Sex": 6, "två": 2, "åtta": 8, "tjugoett": 21, "tjugoen": 21, "nittionio": 99},
    "tr": {"Beş": 5, "sıfır": 0, "üç": 3, "kırk": 40, "yüz": 100, "bin": 1000},
    "ar": {"خمسة": 5, "خمس": 5, "اثنان": 2, "اثنين": 2, "أربعة": 4, "عشرين": 20, "ألف": 1000},
    "hi": {"पाँच": 5, "पांच": 5, "बीस": 20, "पच्चीस": 25, "निन्यानबे": 99, "हज़ार": 1000},
    "vi": {"Hai": 2, "bốn": 4, "chín": 9, "mười": 10, "trăm": 100},
    "id": {"Delapan": 8, "satu": 1, "sebelas": 11, "seratus": 100, "seribu": 1000},
    "he": {"חמישה": 5, "חמש": 5, "אחת": 1, "שתיים": 2, "עשרים": 20, "אלף": 1000},
}

#: Words left out of `numbers`: articles, or common words that are not numbers ("sei" is
#: Italian "you are", Vietnamese "năm" is "year", Korean 이 is "this" and 네 is "yes").
NOT_NUMBER_WORDS: dict[str, tuple[str, ...]] = {
    "de": ("ein", "eine"),
    "fr": ("un", "une"),
    "es": ("un", "una", "uno"),
    "it": ("un", "una", "uno", "sei"),
    "pt": ("um", "uma"),
    "nl": ("een", "één"),
    "sv": ("en", "ett"),
    "tr": ("bir",),
    "hi": ("एक",),
    "ko": ("이", "일", "사", "오", "구", "한", "네", "세"),
    "vi": ("không", "một", "ba", "năm", "sáu", "bảy", "tám", "ngàn"),
    "ar": ("أحد",),
    "he": ("שני",),
}

#: Languages writing too few numbers as one word for 20 entries (Chinese and Japanese compose
#: 二十; Indonesian writes "dua puluh"), or whose words mostly collide once accents go (vi).
FEW_NUMBER_WORDS = {"zh": 16, "id": 14, "vi": 6}

#: Numbers up to 10 with no word in a language's `numbers`: its "one" is also its article
#: (Hindi एक too), Italian "sei" is "you are", and Vietnamese loses most words to accents
#: ("năm" is also "year", "sáu" folds to "sau", after).
SMALL_NUMBERS_LEFT_OUT: dict[str, set[int]] = {
    **{code: {1} for code in ("fr", "es", "pt", "nl", "sv", "tr", "hi")},
    "it": {1, 6},
    "vi": {0, 1, 3, 5, 6, 7, 8},
}


def _raw_numbers(code: str) -> dict[str, object]:
    path = resources.files("pytest_abstain.grading").joinpath("languages").joinpath(f"{code}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data)[-1] == "numbers", code
    numbers = data["numbers"]
    assert isinstance(numbers, dict)
    return numbers


@pytest.mark.parametrize("code", sorted(CODES - {"en"}))
def test_number_words_file(code: str) -> None:
    raw = _raw_numbers(code)
    assert len(raw) >= FEW_NUMBER_WORDS.get(code, 20), (code, len(raw))
    values: dict[str, object] = {}
    for word, value in raw.items():
        assert type(value) is int and value >= 0, (code, word, value)
        assert word == word.lower() and word.strip() == word, (code, word)
        # One word each, and no two spellings that fold together read differently.
        folded = normalize(word)
        assert folded and " " not in folded, (code, word)
        assert values.setdefault(folded, value) == value, (code, word)


@pytest.mark.parametrize("code", sorted(CODES - {"en"}))
def test_number_words_read(code: str) -> None:
    numbers = languages()[code].numbers
    spot = NUMBER_WORDS[code]
    assert len(spot) >= 3
    for word, value in spot.items():
        assert numbers.get(normalize(word)) == value, (code, word)
    for word in NOT_NUMBER_WORDS.get(code, ()):
        assert normalize(word) not in numbers, (code, word)
    # 0 to 10, 100 and 1000 are each read in some form, but for the words left out.
    missing = {*range(11), 100, 1000} - set(numbers.values())
    assert missing == SMALL_NUMBERS_LEFT_OUT.get(code, set()), (code, missing)


def test_every_language_has_number_cases() -> None:
    assert set(NUMBER_WORDS) == CODES - {"en"}

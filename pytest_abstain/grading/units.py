"""Units after numbers, each folded to one name ("1.73 meters" is "1.73 m"), and the factor
between two units of one family ("8.849 km" is 8849 m)."""

from __future__ import annotations

#: Units written in several ways, folded to one name so "1.73 meters" is "1.73 m".
_UNIT_FAMILIES = {
    "m": "m meter meters metre metres mètres metros metri metrów metrů 米 м метр метра "
         "метров",
    "km": "km kilometer kilometers kilometre kilometres kilomètres kilómetros 公里 千米 км",
    "cm": "cm centimeter centimeters centimetre centimetres 厘米 см",
    "kg": "kg kilogram kilograms kilogramme kilogrammes kilogramos 公斤 千克 кг",
    "g": "g gram grams gramme grammes gramos 克 г",
    "%": "% percent per prozent pourcent por procent процент процентов 百分之",
    "mm": "mm millimeter millimeters millimetre millimetres 毫米 мм",
    "mg": "mg milligram milligrams 毫克 мг",
    "kb": "kb kilobyte kilobytes кб",
    "mb": "mb megabyte megabytes мб",
    "gb": "gb gigabyte gigabytes гб",
    "tb": "tb terabyte terabytes тб",
    "day": "day days tag tage tagen jour jours día días dia dias giorni дней дня день 天 日 일",
    "year": "year years jahr jahre jahren an ans año años ano anos anni лет года год 年 년",
    "hour": "h hour hours stunde stunden heure heures hora horas ore часов часа час 小时 시간",
    "minute": "min minute minutes minuten minuto minutos minuti минут минуты 分钟 분",
    "usd": "usd $ dollar dollars",
    "eur": "eur € euro euros",
}  # fmt: skip

UNIT_NAMES = {word: name for name, words in _UNIT_FAMILIES.items() for word in words.split()}

#: Units of one family with their size in the family's base unit: "8.849 km" is 8849 m.
_UNIT_SIZES = {"km": ("m", 1e3), "m": ("m", 1.0), "cm": ("m", 1e-2), "mm": ("m", 1e-3),
               "kg": ("g", 1e3), "g": ("g", 1.0), "mg": ("g", 1e-3), "tb": ("mb", 1e6),
               "gb": ("mb", 1e3), "mb": ("mb", 1.0), "kb": ("mb", 1e-3)}  # fmt: skip


def unit_factor(reply_unit: str | None, answer_unit: str | None) -> float | None:
    """What a reply's number is multiplied by to be in the answer's unit: 1 when either unit
    is missing or unknown, 1000 for km against m; None when both are known and differ in
    kind ("25 GB" against "25 MB" is 1000, "25 kg" against "25 MB" is None)."""
    if reply_unit is None or answer_unit is None:
        return 1.0
    a, b = UNIT_NAMES.get(reply_unit), UNIT_NAMES.get(answer_unit)
    if a is None or b is None or a == b:
        return 1.0
    if a in _UNIT_SIZES and b in _UNIT_SIZES and _UNIT_SIZES[a][0] == _UNIT_SIZES[b][0]:
        return _UNIT_SIZES[a][1] / _UNIT_SIZES[b][1]
    return None


def scaled_unit(unit: str | None) -> float | None:
    """The size of a known unit of a family in its base ("km" -> 1000.0), else None."""
    name = UNIT_NAMES.get(unit or "")
    return _UNIT_SIZES[name][1] if name in _UNIT_SIZES else None

//! Katakana readings in roman letters (ローマ字), for two jobs: refusing a logon password that
//! contains the applicant's name, and suggesting the name embossed on a debit card.
//!
//! Japanese people spell their names in several systems, so a password check must know all
//! of them. A [`Style`] picks one spelling of each choice:
//! - **Hepburn** (ヘボン式: シ shi, チ chi, ツ tsu, フ fu, ジ ji, シャ sha) or **Kunrei**
//!   (訓令式: si, ti, tu, hu, zi, sya), the system of school textbooks;
//! - **long vowels** (オウ, オオ, ウウ, and ー after any vowel) written as typed (サトウ →
//!   satou, the way people type on a keyboard), dropped (sato, the passport's spelling) or,
//!   for a long o, written oh (satoh, allowed on passports);
//! - **ン before b, m, p** as n (honma) or m (homma, traditional Hepburn, still used on
//!   passports).
//!
//! [`passport_hepburn`] is the spelling of Japanese passports and bank cards (ヒガ ハナコ →
//! HIGA HANAKO, オオシロ → OSHIRO, ホンマ → HOMMA). [`spellings`] gives every spelling.
//!
//! A small table rather than a crate: the few romanization crates on crates.io either know
//! one system only, or convert arbitrary Japanese text with a dictionary, which a name reading
//! in katakana does not need. Hiragana is read as the matching katakana.

/// How long vowels are written. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongVowels {
    /// As typed: チョウ → chou, オオノ → oono, ジョージ → joji with ー as the vowel again (jooji).
    AsWritten,
    /// Dropped: チョウ → cho, オオノ → ono (passports).
    Dropped,
    /// A long o as oh, other long vowels dropped: チョウ → choh, オオノ → ohno.
    Oh,
}

/// One way of spelling a reading. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Kunrei-shiki (si, ti, tu, hu, zi, sya) instead of Hepburn (shi, chi, tsu, fu, ji, sha).
    pub kunrei: bool,
    /// How long vowels are written.
    pub long_vowels: LongVowels,
    /// ン written m before b, m and p.
    pub m_before_labials: bool,
}

impl Style {
    /// Modern Hepburn with the vowels as typed: シュウイチ → shuuichi, ホンマ → honma.
    pub const HEPBURN: Style = Style {
        kunrei: false,
        long_vowels: LongVowels::AsWritten,
        m_before_labials: false,
    };
    /// The passport's Hepburn: long vowels dropped, m before b/m/p: オオシロ → oshiro,
    /// ホンマ → homma, シュウイチ → shuichi.
    pub const PASSPORT: Style = Style {
        kunrei: false,
        long_vowels: LongVowels::Dropped,
        m_before_labials: true,
    };

    /// Every combination of the three choices.
    pub fn all() -> Vec<Style> {
        let mut styles = Vec::with_capacity(12);
        for kunrei in [false, true] {
            for long_vowels in [LongVowels::AsWritten, LongVowels::Dropped, LongVowels::Oh] {
                for m_before_labials in [false, true] {
                    styles.push(Style {
                        kunrei,
                        long_vowels,
                        m_before_labials,
                    });
                }
            }
        }
        styles
    }
}

/// One unit of a reading.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mora {
    /// A syllable, in Hepburn and in Kunrei.
    Syllable {
        hepburn: &'static str,
        kunrei: &'static str,
    },
    /// The syllable's spelling is computed (a small kana joined to the previous one).
    Joined { hepburn: String, kunrei: String },
    /// ッ: doubles the next consonant.
    Sokuon,
    /// ン.
    N,
    /// ー: lengthens the previous vowel.
    LongMark,
    /// A space between words.
    Space,
}

/// The spelling of a reading in `style`, lower-case, words separated by one space; `None` when
/// the text holds anything but kana, ー and spaces.
pub fn romanize(kana: &str, style: Style) -> Option<String> {
    let morae = morae(kana)?;
    Some(render(&morae, style))
}

/// Modern Hepburn, long vowels as typed (チョウ → chou). See [`Style::HEPBURN`].
pub fn hepburn(kana: &str) -> Option<String> {
    romanize(kana, Style::HEPBURN)
}

/// The passport's Hepburn (チョウ → cho, ホンマ → homma). See [`Style::PASSPORT`].
pub fn passport_hepburn(kana: &str) -> Option<String> {
    romanize(kana, Style::PASSPORT)
}

/// Every spelling of a reading in the styles of [`Style::all`], without repeats, the
/// Hepburn one first.
pub fn spellings(kana: &str) -> Vec<String> {
    let Some(morae) = morae(kana) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for style in std::iter::once(Style::HEPBURN).chain(Style::all()) {
        let spelling = render(&morae, style);
        if !out.contains(&spelling) {
            out.push(spelling);
        }
    }
    out
}

/// Hiragana as katakana; everything else unchanged.
fn to_katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' => char::from_u32(u32::from(c) + 0x60).unwrap_or(c),
        _ => c,
    }
}

/// The kana of one syllable, with its Hepburn and Kunrei spellings.
fn syllable(c: char) -> Option<(&'static str, &'static str)> {
    let same = |s: &'static str| Some((s, s));
    match c {
        'ア' | 'ァ' => same("a"),
        'イ' | 'ィ' | 'ヰ' => same("i"),
        'ウ' | 'ゥ' => same("u"),
        'エ' | 'ェ' | 'ヱ' => same("e"),
        'オ' | 'ォ' => same("o"),
        'カ' | 'ヵ' => same("ka"),
        'キ' => same("ki"),
        'ク' => same("ku"),
        'ケ' | 'ヶ' => same("ke"),
        'コ' => same("ko"),
        'ガ' => same("ga"),
        'ギ' => same("gi"),
        'グ' => same("gu"),
        'ゲ' => same("ge"),
        'ゴ' => same("go"),
        'サ' => same("sa"),
        'シ' => Some(("shi", "si")),
        'ス' => same("su"),
        'セ' => same("se"),
        'ソ' => same("so"),
        'ザ' => same("za"),
        'ジ' => Some(("ji", "zi")),
        'ズ' => same("zu"),
        'ゼ' => same("ze"),
        'ゾ' => same("zo"),
        'タ' => same("ta"),
        'チ' => Some(("chi", "ti")),
        'ツ' => Some(("tsu", "tu")),
        'テ' => same("te"),
        'ト' => same("to"),
        'ダ' => same("da"),
        'ヂ' => Some(("ji", "zi")),
        'ヅ' => same("zu"),
        'デ' => same("de"),
        'ド' => same("do"),
        'ナ' => same("na"),
        'ニ' => same("ni"),
        'ヌ' => same("nu"),
        'ネ' => same("ne"),
        'ノ' => same("no"),
        'ハ' => same("ha"),
        'ヒ' => same("hi"),
        'フ' => Some(("fu", "hu")),
        'ヘ' => same("he"),
        'ホ' => same("ho"),
        'バ' => same("ba"),
        'ビ' => same("bi"),
        'ブ' => same("bu"),
        'ベ' => same("be"),
        'ボ' => same("bo"),
        'パ' => same("pa"),
        'ピ' => same("pi"),
        'プ' => same("pu"),
        'ペ' => same("pe"),
        'ポ' => same("po"),
        'マ' => same("ma"),
        'ミ' => same("mi"),
        'ム' => same("mu"),
        'メ' => same("me"),
        'モ' => same("mo"),
        'ヤ' | 'ャ' => same("ya"),
        'ユ' | 'ュ' => same("yu"),
        'ヨ' | 'ョ' => same("yo"),
        'ラ' => same("ra"),
        'リ' => same("ri"),
        'ル' => same("ru"),
        'レ' => same("re"),
        'ロ' => same("ro"),
        'ワ' | 'ヮ' => same("wa"),
        'ヲ' => Some(("o", "wo")),
        'ヴ' => same("vu"),
        _ => None,
    }
}

/// The spelling of an i-row kana joined with a small ャ, ュ or ョ, without the vowel:
/// キ → ky, シ → sh/sy, チ → ch/ty, ジ and ヂ → j/zy.
fn yoon_stem(c: char) -> Option<(&'static str, &'static str)> {
    let same = |s: &'static str| Some((s, s));
    match c {
        'キ' => same("ky"),
        'ギ' => same("gy"),
        'シ' => Some(("sh", "sy")),
        'ジ' | 'ヂ' => Some(("j", "zy")),
        'チ' => Some(("ch", "ty")),
        'ニ' => same("ny"),
        'ヒ' => same("hy"),
        'ビ' => same("by"),
        'ピ' => same("py"),
        'ミ' => same("my"),
        'リ' => same("ry"),
        // Loanword spellings: テュ tyu, デュ dyu, フュ fyu, ヴュ vyu.
        'テ' => same("ty"),
        'デ' => same("dy"),
        'フ' => same("fy"),
        'ヴ' => same("vy"),
        _ => None,
    }
}

/// The spelling of a kana joined with a small ァ, ィ, ゥ, ェ or ォ, without the vowel, for
/// the loanword spellings of foreign names: ファ fa, ティ ti, ウィ wi, ヴァ va, シェ she,
/// ツァ tsa, クァ kwa.
fn small_vowel_stem(c: char) -> Option<(&'static str, &'static str)> {
    let same = |s: &'static str| Some((s, s));
    match c {
        'フ' => same("f"),
        'テ' | 'ト' => same("t"),
        'デ' | 'ド' => same("d"),
        'ウ' => same("w"),
        'ヴ' => same("v"),
        'シ' => Some(("sh", "sy")),
        'ジ' => Some(("j", "zy")),
        'チ' => Some(("ch", "ty")),
        'ツ' => Some(("ts", "ts")),
        'イ' => same("y"),
        'ク' => same("kw"),
        'グ' => same("gw"),
        _ => None,
    }
}

fn is_small_y(c: char) -> bool {
    matches!(c, 'ャ' | 'ュ' | 'ョ')
}

fn is_small_vowel(c: char) -> bool {
    matches!(c, 'ァ' | 'ィ' | 'ゥ' | 'ェ' | 'ォ')
}

/// Splits a reading into morae, joining small kana to the kana before them.
fn morae(kana: &str) -> Option<Vec<Mora>> {
    let chars: Vec<char> = kana.chars().map(to_katakana).collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        i += 1;
        match c {
            'ッ' => out.push(Mora::Sokuon),
            'ン' => out.push(Mora::N),
            'ー' | '〜' | '～' => out.push(Mora::LongMark),
            ' ' | '\u{3000}' => out.push(Mora::Space),
            _ => {
                let (hepburn, kunrei) = syllable(c)?;
                let joined = match next {
                    Some(small) if is_small_y(small) => yoon_stem(c).zip(syllable(small)),
                    Some(small) if is_small_vowel(small) => {
                        small_vowel_stem(c).zip(syllable(small))
                    }
                    _ => None,
                };
                match joined {
                    Some(((stem_h, stem_k), (vowel, _))) => {
                        // ャ gives "ya": keep its vowel only.
                        let vowel = vowel.trim_start_matches('y');
                        out.push(Mora::Joined {
                            hepburn: format!("{stem_h}{vowel}"),
                            kunrei: format!("{stem_k}{vowel}"),
                        });
                        i += 1;
                    }
                    None => out.push(Mora::Syllable { hepburn, kunrei }),
                }
            }
        }
    }
    Some(out)
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'i' | 'u' | 'e' | 'o')
}

/// Writes the morae in `style`.
fn render(morae: &[Mora], style: Style) -> String {
    let mut out = String::with_capacity(morae.len() * 3);
    let mut last_vowel: Option<char> = None;
    let mut pending_sokuon = false;
    let mut pending_n = false;
    for mora in morae {
        let text: &str = match mora {
            Mora::Syllable { hepburn, kunrei } => {
                if style.kunrei {
                    kunrei
                } else {
                    hepburn
                }
            }
            Mora::Joined { hepburn, kunrei } => {
                if style.kunrei {
                    kunrei
                } else {
                    hepburn
                }
            }
            Mora::Sokuon => {
                pending_sokuon = true;
                continue;
            }
            Mora::N => {
                if pending_n {
                    out.push('n');
                }
                pending_n = true;
                last_vowel = None;
                continue;
            }
            Mora::LongMark => {
                if let Some(vowel) = last_vowel {
                    match style.long_vowels {
                        LongVowels::AsWritten => out.push(vowel),
                        LongVowels::Dropped => {}
                        LongVowels::Oh => {
                            if vowel == 'o' {
                                out.push('h');
                            }
                        }
                    }
                }
                last_vowel = None;
                continue;
            }
            Mora::Space => {
                if pending_n {
                    out.push('n');
                    pending_n = false;
                }
                pending_sokuon = false;
                last_vowel = None;
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                continue;
            }
        };
        let first = text.chars().next().unwrap_or('a');
        if pending_n {
            let labial = matches!(first, 'b' | 'm' | 'p');
            out.push(if style.m_before_labials && labial {
                'm'
            } else {
                'n'
            });
            pending_n = false;
        }
        if pending_sokuon {
            if text.starts_with("ch") {
                out.push('t');
            } else if !is_vowel(first) {
                out.push(first);
            }
            pending_sokuon = false;
        }
        // オウ, オオ and ウウ are long vowels; エイ and イイ are written out in every style.
        let is_long = text.len() == 1
            && matches!(
                (last_vowel, first),
                (Some('o'), 'u' | 'o') | (Some('u'), 'u')
            );
        if is_long {
            match style.long_vowels {
                LongVowels::AsWritten => out.push(first),
                LongVowels::Dropped => {}
                LongVowels::Oh => {
                    if last_vowel == Some('o') {
                        out.push('h');
                    }
                }
            }
            last_vowel = None;
            continue;
        }
        out.push_str(text);
        last_vowel = text.chars().last().filter(|c| is_vowel(*c));
    }
    if pending_n {
        out.push('n');
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(kana: &str) -> String {
        hepburn(kana).unwrap_or_else(|| panic!("{kana} romanizes"))
    }

    fn p(kana: &str) -> String {
        passport_hepburn(kana).unwrap_or_else(|| panic!("{kana} romanizes"))
    }

    fn k(kana: &str) -> String {
        romanize(
            kana,
            Style {
                kunrei: true,
                ..Style::HEPBURN
            },
        )
        .unwrap_or_else(|| panic!("{kana} romanizes"))
    }

    #[test]
    fn okinawan_and_common_names() {
        for (kana, expected) in [
            ("ヒガ", "higa"),
            ("シュリ", "shuri"),
            ("ハナコ", "hanako"),
            ("キャン", "kyan"),
            ("チネン", "chinen"),
            ("ナカンダカリ", "nakandakari"),
            ("ツハ", "tsuha"),
            ("フクチ", "fukuchi"),
            ("ジュンコ", "junko"),
            ("ヤマダ", "yamada"),
            ("タロウ", "tarou"),
            ("チョウ", "chou"),
            ("オオシロ", "ooshiro"),
            ("イイダ", "iida"),
            ("エイジ", "eiji"),
            ("ハットリ", "hattori"),
            ("マッチャ", "matcha"),
            ("シンイチ", "shinichi"),
            ("ホンマ", "honma"),
            ("ヅカ", "zuka"),
            ("ヂュン", "jun"),
        ] {
            assert_eq!(h(kana), expected, "{kana}");
        }
    }

    #[test]
    fn passport_spelling_drops_long_vowels_and_writes_m_before_labials() {
        for (kana, expected) in [
            ("チョウ", "cho"),
            ("オオシロ", "oshiro"),
            ("サトウ", "sato"),
            ("ユウコ", "yuko"),
            ("シュウイチ", "shuichi"),
            ("ホンマ", "homma"),
            ("ナンバ", "namba"),
            ("サンペイ", "sampei"),
            ("ケンジ", "kenji"),
            ("ヒガ　ハナコ", "higa hanako"),
            ("ジョージ", "joji"),
            ("イイダ", "iida"),
        ] {
            assert_eq!(p(kana), expected, "{kana}");
        }
    }

    #[test]
    fn kunrei_spelling() {
        for (kana, expected) in [
            ("シュウジ", "syuuzi"),
            ("チヒロ", "tihiro"),
            ("ツヨシ", "tuyosi"),
            ("フジ", "huzi"),
            ("チョウ", "tyou"),
        ] {
            assert_eq!(k(kana), expected, "{kana}");
        }
    }

    #[test]
    fn the_long_mark_repeats_or_drops_the_vowel() {
        assert_eq!(h("ジョージ"), "jooji");
        assert_eq!(h("ルーシー"), "ruushii");
        assert_eq!(p("ルーシー"), "rushi");
    }

    #[test]
    fn loanword_spellings_of_foreign_names() {
        for (kana, expected) in [
            ("ミシェル", "misheru"),
            ("ヴァイオレット", "vaioretto"),
            ("ティナ", "tina"),
            ("ファティマ", "fatima"),
            ("ウィリアム", "wiriamu"),
            ("ジェシカ", "jeshika"),
            ("デュラン", "dyuran"),
            ("ツァイ", "tsai"),
        ] {
            assert_eq!(h(kana), expected, "{kana}");
        }
    }

    #[test]
    fn every_spelling_is_offered_once() {
        let all = spellings("チョウ");
        for expected in ["chou", "cho", "choh", "tyou", "tyo", "tyoh"] {
            assert!(all.contains(&expected.to_owned()), "{expected} in {all:?}");
        }
        assert_eq!(all.first().map(String::as_str), Some("chou"));
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert!(spellings("ホンマ").contains(&"homma".to_owned()));
        assert!(spellings("オオノ").contains(&"ohno".to_owned()));
        assert_eq!(spellings("ヒガ"), vec!["higa".to_owned()]);
    }

    #[test]
    fn hiragana_reads_as_katakana_and_anything_else_is_refused() {
        assert_eq!(hepburn("ひが").as_deref(), Some("higa"));
        assert_eq!(hepburn("比嘉"), None);
        assert_eq!(hepburn("Higa"), None);
        assert!(spellings("比嘉").is_empty());
    }

    #[test]
    fn odd_but_valid_readings_do_not_panic() {
        for kana in [
            "ッ", "ン", "ー", "ァ", "ャ", "ンン", "ッー", "　", "ンッ", "アー",
        ] {
            let _ = hepburn(kana);
            let _ = passport_hepburn(kana);
        }
        assert_eq!(h("ンン"), "nn");
        assert_eq!(h("ァ"), "a");
    }
}

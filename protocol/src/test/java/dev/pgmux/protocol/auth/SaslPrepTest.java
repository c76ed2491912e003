package dev.pgmux.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SaslPrepTest {

    @Test
    void asciiIsUnchanged() {
        assertThat(SaslPrep.prepare("")).isEqualTo("");
        assertThat(SaslPrep.prepare("pencil")).isEqualTo("pencil");
        assertThat(SaslPrep.prepare("p a s s\tw=o,r$d")).isEqualTo("p a s s\tw=o,r$d");
        assertThat(SaslPrep.prepare("bell\u0007")).isEqualTo("bell\u0007");
    }

    @Test
    void nonAsciiSpacesBecomeSpace() {
        assertThat(SaslPrep.prepare("a\u00A0b")).isEqualTo("a b");
        assertThat(SaslPrep.prepare("a\u3000b\u2003c")).isEqualTo("a b c");
    }

    @Test
    void commonlyMappedToNothingIsRemoved() {
        assertThat(SaslPrep.prepare("I\u00ADX")).isEqualTo("IX");
        assertThat(SaslPrep.prepare("pass\u00ADword")).isEqualTo("password");
        assertThat(SaslPrep.prepare("a\u200Db\uFEFFc\uFE0F")).isEqualTo("abc");
    }

    @Test
    void nfkcNormalisation() {
        assertThat(SaslPrep.prepare("\u2168")).isEqualTo("IX");
        assertThat(SaslPrep.prepare("\u00AA")).isEqualTo("a");
        assertThat(SaslPrep.prepare("\uFB01x")).isEqualTo("fix");
        assertThat(SaslPrep.prepare("e\u0301t\u00E9")).isEqualTo("\u00E9t\u00E9");
        assertThat(SaslPrep.prepare("\u00E9")).isEqualTo("\u00E9");
    }

    @Test
    void prohibitedCharactersKeepTheOriginal() {
        // An ASCII control character together with something SASLprep would change.
        assertThat(SaslPrep.prepare("\u2168\u0007")).isEqualTo("\u2168\u0007");
        assertThat(SaslPrep.prepare("\u2168\u0085")).isEqualTo("\u2168\u0085"); // C.2.2
        assertThat(SaslPrep.prepare("\u2168\uE000")).isEqualTo("\u2168\uE000"); // C.3 private use
        assertThat(SaslPrep.prepare("\u2168\uFDD0")).isEqualTo("\u2168\uFDD0"); // C.4 non-character
        assertThat(SaslPrep.prepare("\u2168\u2FF0")).isEqualTo("\u2168\u2FF0"); // C.7
        assertThat(SaslPrep.prepare("\u2168\u200E")).isEqualTo("\u2168\u200E"); // C.8
        assertThat(SaslPrep.prepare("\u2168\uDB40\uDC01")).isEqualTo("\u2168\uDB40\uDC01"); // C.9 U+E0001
    }

    @Test
    void unassignedInUnicode32KeepsTheOriginal() {
        // U+0221 was assigned after Unicode 3.2; U+1F600 (an emoji) too.
        assertThat(SaslPrep.prepare("\u0221\u2168")).isEqualTo("\u0221\u2168");
        assertThat(SaslPrep.prepare("\uD83D\uDE00\u2168")).isEqualTo("\uD83D\uDE00\u2168");
    }

    @Test
    void invalidInputKeepsTheOriginal() {
        assertThat(SaslPrep.prepare("\uD800\u2168")).isEqualTo("\uD800\u2168");
        assertThat(SaslPrep.prepare("\u2168\uDC00")).isEqualTo("\u2168\uDC00");
    }

    @Test
    void emptyAfterMappingKeepsTheOriginal() {
        assertThat(SaslPrep.prepare("\u00AD")).isEqualTo("\u00AD");
        assertThat(SaslPrep.prepare("\u034F\uFEFF")).isEqualTo("\u034F\uFEFF");
        // U+200B is in both tables; like Postgres, the space mapping wins.
        assertThat(SaslPrep.prepare("\u200B\uFEFF")).isEqualTo(" ");
    }

    @Test
    void bidiRule() {
        // Right-to-left only, spaces in between: fine.
        assertThat(SaslPrep.prepare("\u05D0\u00A0\u05D1")).isEqualTo("\u05D0 \u05D1");
        // Right-to-left with a left-to-right character inside: original kept.
        assertThat(SaslPrep.prepare("\u05D0\uFB01\u05D1")).isEqualTo("\u05D0\uFB01\u05D1");
        // Right-to-left string must start and end with a right-to-left character.
        assertThat(SaslPrep.prepare("\u05D0\u00A01")).isEqualTo("\u05D0\u00A01");
        assertThat(SaslPrep.prepare("1\u00A0\u05D0")).isEqualTo("1\u00A0\u05D0");
        // Arabic (AL) counts as right-to-left.
        assertThat(SaslPrep.prepare("\u0627\u00A0\u0628")).isEqualTo("\u0627 \u0628");
        // Braille was not L in Unicode 3.2 (it is today): Postgres accepts this string.
        assertThat(SaslPrep.prepare("\u05D0\u2800\u00A0\u05D1")).isEqualTo("\u05D0\u2800 \u05D1");
    }

    @Test
    void bidiCategoriesFollowUnicode32() {
        assertThat(SaslPrep.isL('a')).isTrue();
        assertThat(SaslPrep.isL(0x2800)).isFalse();
        assertThat(SaslPrep.isL(0x17B4)).isTrue();
        assertThat(SaslPrep.isL(0x05D0)).isFalse();
        assertThat(SaslPrep.isRandAL(0x05D0)).isTrue();
        assertThat(SaslPrep.isRandAL(0x0627)).isTrue();
        assertThat(SaslPrep.isRandAL('a')).isFalse();
    }

    @Test
    void prohibitedTable() {
        for (int cp : new int[] {0x0000, 0x001F, 0x007F, 0x0085, 0x00A0, 0x0340, 0x06DD, 0x1680, 0x2000, 0x200F,
                0x2028, 0x202F, 0x2060, 0x206F, 0x2FFB, 0x3000, 0xD800, 0xDFFF, 0xE000, 0xF8FF, 0xFDD0, 0xFEFF,
                0xFFFC, 0xFFFF, 0x1D173, 0x1FFFE, 0xE0001, 0xE0020, 0xE007F, 0xF0000, 0x10FFFF}) {
            assertThat(SaslPrep.isProhibited(cp)).as("U+%04X", cp).isTrue();
        }
        for (int cp : new int[] {0x0020, 0x0041, 0x007E, 0x00A1, 0x00E9, 0x2168, 0x4E00, 0xFB01, 0x1D400}) {
            assertThat(SaslPrep.isProhibited(cp)).as("U+%04X", cp).isFalse();
        }
    }

    @Test
    void unassignedTableCoversEverythingTheJdkCallsUnassigned() {
        // Code points unassigned today were unassigned in Unicode 3.2 too (A.1), except the
        // non-characters, which stringprep lists as prohibited (C.4) instead.
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (Character.getType(cp) == Character.UNASSIGNED) {
                if (!(SaslPrep.isUnassigned32(cp) || SaslPrep.isProhibited(cp))) {
                    throw new AssertionError(String.format("U+%04X unassigned but not in A.1", cp));
                }
            }
        }
        assertThat(SaslPrep.isUnassigned32(0x0221)).isTrue();
        assertThat(SaslPrep.isUnassigned32(0x1F600)).isTrue();
        assertThat(SaslPrep.isUnassigned32(0x0220)).isFalse();
        assertThat(SaslPrep.isUnassigned32('a')).isFalse();
        assertThat(SaslPrep.isUnassigned32(0x4E00)).isFalse();
        assertThat(SaslPrep.isUnassigned32(0xFDD0)).isFalse();
    }
}

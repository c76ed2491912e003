package dev.pgmux.loadtest.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How the reports write JSON: what a parser reads back, numbers as the reports show them, safe inside HTML. */
class JsonTest {
    private static final String TEXT = "quote \" backslash \\ newline \n tab \t <tag> \u0001 é \u2028";

    @Test
    void writesWhatAParserReadsBack() throws Exception {
        String json = Json.render(g -> {
            g.writeStartObject();
            g.writeStringField("s", TEXT);
            g.writeNumberField("n", 42);
            Json.number(g, "d", 0.125);
            Json.number(g, "nan", Double.NaN);
            Json.number(g, "inf", Double.POSITIVE_INFINITY);
            g.writeBooleanField("b", true);
            g.writeStringField("none", null);
            g.writeArrayFieldStart("a");
            g.writeNumber(1);
            g.writeString("x");
            g.writeNull();
            g.writeStartObject();
            g.writeEndObject();
            g.writeEndArray();
            g.writeArrayFieldStart("empty");
            g.writeEndArray();
            g.writeEndObject();
        });
        JsonNode j = new ObjectMapper().readTree(json);
        assertThat(j.get("s").asText()).isEqualTo(TEXT);
        assertThat(j.get("n").asLong()).isEqualTo(42);
        assertThat(j.get("d").asDouble()).isEqualTo(0.125);
        assertThat(j.get("nan").isNull()).isTrue();
        assertThat(j.get("inf").isNull()).isTrue();
        assertThat(j.get("b").asBoolean()).isTrue();
        assertThat(j.get("none").isNull()).isTrue();
        assertThat(j.get("a")).hasSize(4);
        assertThat(j.get("empty")).isEmpty();
        // safe inside an HTML script block: no '<', no raw JavaScript line separator
        assertThat(json).doesNotContain("<tag>").contains("\\u003ctag>").doesNotContain("\u2028");
        assertThat(json).startsWith("{\n  \"s\": ").contains("\"empty\": []").endsWith("}\n");
    }

    @Test
    void doublesAreWrittenAsTheReportsShowThem() {
        assertThat(number(5.0)).isEqualTo("5");
        assertThat(number(-3.0)).isEqualTo("-3");
        assertThat(number(2.025)).isEqualTo("2.025");
        assertThat(number(595.5555555555)).isEqualTo("595.555556");
        assertThat(number(0.0000004)).isEqualTo("0");
        assertThat(number(1e16)).isEqualTo("1.0E16");
    }

    @Test
    void refusesUnclosedContainers() {
        assertThatThrownBy(() -> Json.render(g -> g.writeStartObject())).hasMessageContaining("unclosed");
    }

    private static String number(double v) {
        return Json.render(g -> Json.number(g, v)).strip();
    }
}

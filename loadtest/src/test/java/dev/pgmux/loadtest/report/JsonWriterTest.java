package dev.pgmux.loadtest.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonWriterTest {

    @Test
    void writesWhatAParserReadsBack() throws Exception {
        for (boolean pretty : new boolean[] {false, true}) {
            JsonWriter w = new JsonWriter(pretty);
            w.beginObject().field("s", "quote \" backslash \\ newline \n tab \t <tag> \u0001 é")
                    .field("n", 42).field("d", 0.125).field("nan", Double.NaN).field("b", true)
                    .name("a").beginArray().value(1).value("x").nullValue().beginObject().endObject().endArray()
                    .name("empty").beginArray().endArray().endObject();
            JsonNode j = new ObjectMapper().readTree(w.toString());
            assertThat(j.get("s").asText()).isEqualTo("quote \" backslash \\ newline \n tab \t <tag> \u0001 é");
            assertThat(j.get("n").asLong()).isEqualTo(42);
            assertThat(j.get("d").asDouble()).isEqualTo(0.125);
            assertThat(j.get("nan").isNull()).isTrue();
            assertThat(j.get("b").asBoolean()).isTrue();
            assertThat(j.get("a")).hasSize(4);
            assertThat(j.get("empty")).isEmpty();
            assertThat(w.toString()).doesNotContain("<tag>"); // safe inside an HTML script block
        }
    }

    @Test
    void refusesUnclosedContainers() {
        JsonWriter w = new JsonWriter(false).beginObject();
        assertThatThrownBy(w::toString).hasMessageContaining("unclosed");
    }
}

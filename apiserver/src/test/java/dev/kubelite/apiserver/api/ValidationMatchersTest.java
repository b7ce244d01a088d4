package dev.kubelite.apiserver.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written name matchers accept exactly what Kubernetes' validation regexes accept. */
class ValidationMatchersTest {
  private static final String ALPHABET = "az09AZmQ-_./%: é";

  private static List<String> samples() {
    List<String> out =
        new ArrayList<>(
            List.of(
                "",
                "a",
                "-",
                ".",
                "a.",
                ".a",
                "a..b",
                "a-b",
                "-a",
                "a-",
                "A",
                "a_b",
                "_a",
                "a_",
                "my-name",
                "example.com",
                "app.kubernetes.io",
                "123-abc",
                "MyName",
                "my.name",
                "1",
                "a.b-c.d",
                "a.-b",
                "a-.b"));
    Random r = new Random(42);
    for (int i = 0; i < 50_000; i++) {
      int n = r.nextInt(9);
      StringBuilder b = new StringBuilder();
      for (int j = 0; j < n; j++) {
        b.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
      }
      out.add(b.toString());
    }
    return out;
  }

  private static void same(String regex, Predicate<String> matcher) {
    Pattern p = Pattern.compile(regex);
    for (String s : samples()) {
      assertThat(matcher.test(s)).as("'%s' against %s", s, regex).isEqualTo(p.matcher(s).matches());
    }
  }

  @Test
  void eachMatcherAgreesWithItsRegex() {
    same(Validation.DNS1123_LABEL, Validation::isDns1123Label);
    same(Validation.DNS1123_SUBDOMAIN, Validation::isDns1123Subdomain);
    same(Validation.DNS1035_LABEL, Validation::isDns1035Label);
    same(Validation.QUALIFIED_NAME, Validation::isQualifiedName);
    same(Validation.LABEL_VALUE, Validation::isLabelValue);
    same(Validation.CONFIG_KEY, Validation::isConfigKey);
  }
}

package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Durations;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

/**
 * Option values checked as the command line is read, so that a mistake is reported with its option's name
 * before anything starts. Options that become simulation parameters keep their text as given.
 */
final class Values {
    private Values() {}

    /** A whole number, at least 1. */
    static final class Count implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return wholeNumber(value, 1);
        }
    }

    /** pgjdbc's prepareThreshold: a whole number, at least -1 (-1 and 0 have their own meaning there). */
    static final class PrepareThreshold implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return wholeNumber(value, -1);
        }
    }

    /** Users per second: a number above 0, kept as given. */
    static final class Rate implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            double rate;
            try {
                rate = Double.parseDouble(value.strip());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("needs a number, got \"" + value + "\"");
            }
            if (!(rate > 0)) {
                throw new TypeConversionException("must be > 0, got " + value);
            }
            return value;
        }
    }

    /** A duration ({@code 500ms}, {@code 30s}, {@code 1m30s}; a bare number is seconds), kept as given. */
    static final class DurationText implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            duration(value);
            return value;
        }
    }

    /** A duration, as a {@link Duration}. */
    static final class DurationValue implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(value);
        }
    }

    /** A percentage: {@code 10} or {@code 10%}. */
    static final class Percent implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            try {
                return Double.parseDouble(value.strip().replaceFirst("%$", ""));
            } catch (NumberFormatException e) {
                throw new TypeConversionException("needs a percentage (e.g. 10 or 10%), got \"" + value + "\"");
            }
        }
    }

    private static int wholeNumber(String value, int min) {
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("needs a whole number, got \"" + value + "\"");
        }
        if (n < min) {
            throw new TypeConversionException("must be at least " + min + ", got " + n);
        }
        return n;
    }

    private static Duration duration(String value) {
        try {
            return Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;

/**
 * The Apache Avro reference implementation's side of frontdesk's Java cross-check
 * (tests/integration/test_avro_java_crosscheck.py), run once per test run.
 *
 * <p>Usage: {@code java AvroCrossCheck request.json response.json}. The request holds
 *
 * <ul>
 *   <li>{@code schemas}: "Type.vN" to the writer schema JSON of every shipped version (what the
 *       schemas topic carries);
 *   <li>{@code decode}: id to the hex of a single-object message, decoded with
 *       BinaryMessageDecoder into the latest version of its record, the writer found by
 *       fingerprint in a SchemaStore of all versions;
 *   <li>{@code encode}: id to {schema, json}: a datum in Avro's JSON encoding, written with
 *       BinaryMessageEncoder.
 * </ul>
 *
 * The response holds Java's fingerprint of each schema, each decoded record as normalised
 * JSON (dates ISO, timestamps epoch millis, decimals plain strings, UUIDs canonical) or the
 * error Java raised, and the hex of each encoded message or its error.
 */
public final class AvroCrossCheck {
  private static final HexFormat HEX = HexFormat.of();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private AvroCrossCheck() {}

  public static void main(String[] args) throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    JsonNode request = mapper.readTree(Path.of(args[0]).toFile());
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new Conversions.DecimalConversion());
    model.addLogicalTypeConversion(new Conversions.UUIDConversion());
    model.addLogicalTypeConversion(new TimeConversions.DateConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());

    Map<String, Schema> schemas = new HashMap<>();
    Map<String, Schema> byFingerprint = new HashMap<>();
    Map<String, String> latestKey = new HashMap<>();
    SchemaStore.Cache store = new SchemaStore.Cache();
    ObjectNode fingerprints = NODES.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = request.get("schemas").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      Schema schema = new Schema.Parser().parse(entry.getValue().asText());
      String key = entry.getKey();
      schemas.put(key, schema);
      store.addSchema(schema);
      String fp = wire(SchemaNormalization.parsingFingerprint64(schema));
      fingerprints.put(key, fp);
      byFingerprint.put(fp, schema);
      String current = latestKey.get(schema.getFullName());
      if (current == null || version(key) > version(current)) {
        latestKey.put(schema.getFullName(), key);
      }
    }
    Map<String, BinaryMessageDecoder<Object>> decoders = new HashMap<>();
    for (Map.Entry<String, String> entry : latestKey.entrySet()) {
      Schema reader = schemas.get(entry.getValue());
      decoders.put(entry.getKey(), new BinaryMessageDecoder<>(model, reader, store));
    }

    ObjectNode decoded = NODES.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = request.get("decode").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      byte[] message = HEX.parseHex(entry.getValue().asText());
      ObjectNode result = decoded.putObject(entry.getKey());
      try {
        String fp = message.length >= 10 ? HEX.formatHex(message, 2, 10) : "";
        Schema writer = byFingerprint.get(fp);
        if (writer == null) {
          throw new IllegalArgumentException("no schema has fingerprint " + fp);
        }
        Schema reader = schemas.get(latestKey.get(writer.getFullName()));
        Object record = decoders.get(writer.getFullName()).decode(message);
        result.set("value", normalised(record, reader, model));
      } catch (Exception | StackOverflowError e) {
        result.put("error", describe(e));
      }
    }

    ObjectNode encoded = NODES.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = request.get("encode").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      ObjectNode result = encoded.putObject(entry.getKey());
      try {
        Schema schema = schemas.get(entry.getValue().get("schema").asText());
        String text = entry.getValue().get("json").asText();
        GenericDatumReader<Object> reader = new GenericDatumReader<>(schema, schema, model);
        Object datum = reader.read(null, DecoderFactory.get().jsonDecoder(schema, text));
        ByteBuffer out = new BinaryMessageEncoder<Object>(model, schema).encode(datum);
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        result.put("hex", HEX.formatHex(bytes));
      } catch (Exception e) {
        result.put("error", describe(e));
      }
    }

    ObjectNode response = NODES.objectNode();
    response.set("fingerprints", fingerprints);
    response.set("decoded", decoded);
    response.set("encoded", encoded);
    mapper.writeValue(Path.of(args[1]).toFile(), response);
  }

  /** The error and its causes, innermost last: Avro wraps the decoder's own message. */
  private static String describe(Throwable error) {
    StringBuilder out = new StringBuilder();
    for (Throwable e = error; e != null; e = e.getCause()) {
      out.append(out.length() == 0 ? "" : " <- ").append(e.getClass().getName()).append(": ").append(e.getMessage());
    }
    return out.toString();
  }

  private static int version(String key) {
    return Integer.parseInt(key.substring(key.lastIndexOf(".v") + 2));
  }

  /** The 8 fingerprint bytes as they appear on the wire (little-endian), in hex. */
  private static String wire(long fingerprint) {
    byte[] bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(fingerprint).array();
    return HEX.formatHex(bytes);
  }

  /** The datum as JSON both sides can compare: logical types in one agreed text form. */
  private static JsonNode normalised(Object value, Schema schema, GenericData model) {
    LogicalType logical = schema.getLogicalType();
    switch (schema.getType()) {
      case NULL:
        return NODES.nullNode();
      case RECORD: {
        ObjectNode out = NODES.objectNode();
        IndexedRecord record = (IndexedRecord) value;
        for (Schema.Field field : schema.getFields()) {
          out.set(field.name(), normalised(record.get(field.pos()), field.schema(), model));
        }
        return out;
      }
      case UNION: {
        if (value == null) {
          return NODES.nullNode();
        }
        List<Schema> branches = new ArrayList<>(schema.getTypes());
        branches.removeIf(b -> b.getType() == Schema.Type.NULL);
        Schema branch = branches.size() == 1
            ? branches.get(0) : schema.getTypes().get(model.resolveUnion(schema, value));
        return normalised(value, branch, model);
      }
      case ENUM:
        return NODES.textNode(value.toString());
      case ARRAY: {
        ArrayNode out = NODES.arrayNode();
        for (Object item : (Iterable<?>) value) {
          out.add(normalised(item, schema.getElementType(), model));
        }
        return out;
      }
      case MAP: {
        ObjectNode out = NODES.objectNode();
        for (Map.Entry<?, ?> item : ((Map<?, ?>) value).entrySet()) {
          out.set(item.getKey().toString(), normalised(item.getValue(), schema.getValueType(), model));
        }
        return out;
      }
      case STRING:
        return NODES.textNode(value.toString());
      case BYTES: {
        if (logical instanceof org.apache.avro.LogicalTypes.Decimal) {
          return NODES.textNode(((BigDecimal) value).toPlainString());
        }
        ByteBuffer buffer = ((ByteBuffer) value).duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return NODES.textNode(HEX.formatHex(bytes));
      }
      case FIXED:
        return NODES.textNode(HEX.formatHex(((GenericData.Fixed) value).bytes()));
      case INT:
        if (value instanceof LocalDate date) {
          return NODES.textNode(date.toString());
        }
        return NODES.numberNode((Integer) value);
      case LONG:
        if (value instanceof Instant instant) {
          return NODES.numberNode(instant.toEpochMilli());
        }
        return NODES.numberNode((Long) value);
      case BOOLEAN:
        return NODES.booleanNode((Boolean) value);
      case FLOAT:
        return NODES.numberNode((Float) value);
      case DOUBLE:
        return NODES.numberNode((Double) value);
      default:
        throw new IllegalStateException("unexpected schema type " + schema.getType());
    }
  }
}

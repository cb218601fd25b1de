import Foundation
import ProvisioRequest
import Testing

/// The committed JSON Schema is the one `provisio schema` prints, and it accepts the examples.
@Suite struct SchemaFileTests {
    @Test func committedSchemaMatchesTheCode() throws {
        let committed = try String(contentsOfFile: Fixture.examples + "/provision.schema.json", encoding: .utf8)
        #expect(committed == RequestSchema.document().json(), "run `provisio schema > examples/provision.schema.json`")
    }

    @Test func examplesValidateAgainstTheCommittedSchemaWithARealValidator() throws {
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            for path in sys.argv[2:]:
                jsonschema.validate(yaml.safe_load(open(path)), schema)
            print("ok", len(sys.argv) - 2)
            """
        let (status, output) = try Fixture.run(["python3", "-c", script, Fixture.examples + "/provision.schema.json"] + Fixture.requests)
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok \(Fixture.requests.count)"))
    }
}

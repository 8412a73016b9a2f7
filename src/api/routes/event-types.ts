import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { exposedFields } from '../../core/event-types.ts'
import { type ApiEnv, requires, seesEventType } from '../context.ts'
import { ErrorBody, EventType, EventTypeBody, json, TypeParam } from '../schemas.ts'
import { eventTypeJson } from '../serialize.ts'

const errors = {
  400: json(ErrorBody, 'Invalid input'),
  401: json(ErrorBody, 'Not authenticated'),
  403: json(ErrorBody, 'The token lacks the scope'),
}

/** The event types, registered in code or declared here by an admin: `event_types/`. */
export function eventTypeRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/event_types/',
      ...requires(null),
      tags: ['Event types'],
      summary: 'The event types, with their schemas and exposed fields',
      responses: { 200: json(z.array(EventType), 'Event types'), 401: errors[401] },
    }),
    async (c) => {
      const definitions = await c.get('backend').eventTypes.list()
      return c.json(
        definitions
          .filter((definition) => seesEventType(c.get('principal'), definition.type))
          .map((definition) => {
            const schema =
              definition.jsonSchema ??
              (definition.schema ? z.toJSONSchema(definition.schema, { unrepresentable: 'any' }) : null)
            return eventTypeJson(definition, schema, exposedFields(definition))
          }),
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/event_types/',
      ...requires('admin'),
      tags: ['Event types'],
      summary: 'Declare or replace an event type (admin)',
      request: { body: { content: { 'application/json': { schema: EventTypeBody } }, required: true } },
      responses: {
        201: json(EventType, 'Declared'),
        409: json(ErrorBody, 'The type is declared in code'),
        ...errors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const definition = {
        type: body.type,
        description: body.description ?? null,
        jsonSchema: body.json_schema ?? null,
        fields: body.fields ?? null,
      }
      await c.get('backend').eventTypes.declare(definition)
      return c.json(
        {
          type: definition.type,
          description: definition.description,
          json_schema: definition.jsonSchema,
          fields: definition.fields,
        },
        201,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/event_types/{type}/',
      ...requires('admin'),
      tags: ['Event types'],
      summary: 'Remove an event type declared through the API or configuration (admin)',
      request: { params: TypeParam },
      responses: {
        204: { description: 'Removed' },
        404: json(ErrorBody, 'No such declared type'),
        ...errors,
      },
    }),
    async (c) => {
      await c.get('backend').eventTypes.remove(c.req.valid('param').type)
      return c.body(null, 204)
    },
  )
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The two demo models of the README: a water purifier and a water heater. Admins may replace them (PUT /v1/admin/models/:model). */
const DEMO_MODELS = [
  {
    model: 'PX1',
    name: 'Water purifier PX1',
    points: [
      { id: 'power', type: 'boolean', writable: true, history: false },
      { id: 'mode', type: 'enum', writable: true, history: false, values: ['standard', 'eco', 'boost'] },
      { id: 'filter_life', type: 'integer', writable: false, history: false, unit: '%', min: 0, max: 100 },
      { id: 'tds', type: 'number', writable: false, history: true, unit: 'ppm', min: 0, max: 2000 },
      { id: 'water_drawn', type: 'number', writable: false, history: true, unit: 'L', min: 0 },
    ],
  },
  {
    model: 'HT1',
    name: 'Water heater HT1',
    points: [
      { id: 'power', type: 'boolean', writable: true, history: false },
      { id: 'target_temp', type: 'number', writable: true, history: false, unit: '°C', min: 30, max: 75 },
      { id: 'water_temp', type: 'number', writable: false, history: true, unit: '°C', min: 0, max: 100 },
      { id: 'energy', type: 'number', writable: false, history: true, unit: 'kWh', min: 0 },
    ],
  },
];

/**
 * Appliance models (each model's data points) and the reported state of
 * devices: the newest value of each point, held for the device's owner of
 * the moment and deleted when the device leaves them.
 */
export class ApplianceModels1764401300000 implements MigrationInterface {
  name = 'ApplianceModels1764401300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE appliance_models (
        model varchar(64) PRIMARY KEY,
        name varchar(100) NOT NULL,
        points jsonb NOT NULL CHECK (jsonb_typeof(points) = 'array'),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    for (const demo of DEMO_MODELS) {
      await queryRunner.query(
        `INSERT INTO appliance_models (model, name, points) VALUES ($1, $2, $3::jsonb) ON CONFLICT (model) DO NOTHING`,
        [demo.model, demo.name, JSON.stringify(demo.points)],
      );
    }
    await queryRunner.query(`
      CREATE TABLE device_reported_points (
        sn varchar(64) NOT NULL REFERENCES devices(sn) ON DELETE CASCADE,
        point varchar(40) NOT NULL CHECK (point ~ '^[a-z][a-z0-9_]{0,39}$'),
        owner_id uuid NOT NULL REFERENCES users(id),
        value jsonb,
        at timestamptz,
        PRIMARY KEY (sn, point)
      )`);
    await queryRunner.query(`CREATE INDEX device_reported_points_owner ON device_reported_points (owner_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE device_reported_points`);
    await queryRunner.query(`DROP TABLE appliance_models`);
  }
}

import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../../infra/config.ts';
import { SensorAnomalyDetector } from '../../infra/index.ts';
import { CDK_JSON_CONTEXT, templateOnlyApp } from './synth.ts';

// No bundling (templateOnlyApp): these tests read templates, not code.
const newStack = () =>
  new Stack(templateOnlyApp(), 'Plant', {
    env: { region: 'eu-west-1' },
  });
const operatorOf = (stack: Stack) =>
  new Role(stack, 'Operator', { assumedBy: new ServicePrincipal('ec2.amazonaws.com') });

const FEEDBACK_ITEMS = {
  Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['feedback'] } },
};

describe('feedbackApi: true', () => {
  const stack = newStack();
  const detector = new SensorAnomalyDetector(stack, 'D', { feedbackApi: true });
  detector.grantFeedback(operatorOf(stack));
  detector.addOutputs();
  const template = Template.fromStack(stack);

  it('puts the API behind a function URL that only signed IAM callers reach', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('FeedbackApiHandler'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Feedback on anomaly alerts: not-anomaly and missed verdicts',
      Environment: { Variables: { TABLE_NAME: { Ref: Match.stringLikeRegexp('WindowTable') } } },
    });
    template.hasOutput('FeedbackApiUrl', {
      Value: {
        'Fn::GetAtt': [Match.stringLikeRegexp('FeedbackApiHandlerFunctionUrl'), 'FunctionUrl'],
      },
    });
    // No public permission: nobody but a granted principal may invoke it.
    for (const p of Object.values(template.findResources('AWS::Lambda::Permission')))
      expect(p.Properties.Principal).not.toBe('*');
  });

  it('lets its function write the verdicts only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('FeedbackApiRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike(FEEDBACK_ITEMS)]) },
    });
  });

  it('grantFeedback: the verdicts items, and the URL through both invoke permissions', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Operator') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike(FEEDBACK_ITEMS),
          Match.objectLike({
            Action: 'lambda:InvokeFunctionUrl',
            Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
          }),
          Match.objectLike({
            Action: 'lambda:InvokeFunction',
            Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
          }),
        ]),
      },
    });
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources
        .filter((r) => (r.constructPath ?? r.resourceLogicalId ?? '').includes('FeedbackApi'))
        .map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`),
    );
    expect(findings).toEqual([]);
  });
});

describe('without feedbackApi', () => {
  it('deploys no URL; grantFeedback still lets npm run feedback write the verdicts', () => {
    const stack = newStack();
    const detector = new SensorAnomalyDetector(stack, 'D');
    detector.grantFeedback(operatorOf(stack));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Operator') }],
      PolicyDocument: { Statement: [Match.objectLike(FEEDBACK_ITEMS)] },
    });
  });
});

describe('the feedbackApi context key', () => {
  it('maps -c feedbackApi=true onto the prop, and is off by default', () => {
    expect(parseDeployConfig({ ...CDK_JSON_CONTEXT, feedbackApi: 'true' }).props.feedbackApi).toBe(
      true,
    );
    expect(parseDeployConfig(CDK_JSON_CONTEXT).props.feedbackApi).toBeUndefined();
    expect(() => parseDeployConfig({ ...CDK_JSON_CONTEXT, feedbackApi: 'yes please' })).toThrow(
      'feedbackApi',
    );
  });
});
